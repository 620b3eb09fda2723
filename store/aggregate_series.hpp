#pragma once
// SeriesAggregator: the incremental aggregation of §4 for one (device, metric) series, in memory.
// It is the reference statement of the algorithm that AggregateStore runs over SQLite tables
// (same late-window, dedup and counter rules), and it serves callers that aggregate without a
// store. Not thread-safe; a plain value.
//
// Late window: the series keeps (ts, value) of its readings with ts >= newest_ts - late_window,
// plus the newest reading older than that (the anchor, which a late counter reading needs as its
// predecessor). A reading with ts < newest_ts - late_window is late: it changes no bucket.

#include <cstdint>
#include <map>
#include <optional>

#include "core/metric_spec.hpp"
#include "core/time.hpp"
#include "store/bucket.hpp"
#include "store/time_zone.hpp"

namespace fieldsync::store {

enum class ApplyOutcome : unsigned char {
  kAggregated,  // folded into its hourly and daily buckets
  kDuplicate,   // same ts as a reading still in the late window: ignored
  kLate,        // older than the late window: counted, changes no bucket
};

// True when a reading at `ts` is older than the late window behind the series' newest ts.
// A reading exactly late_window_us behind the newest is still inside.
constexpr bool IsLate(core::TimeUs ts, std::optional<core::TimeUs> newest,
                      core::TimeUs late_window_us) {
  return newest.has_value() && ts < *newest - late_window_us;
}

class SeriesAggregator {
 public:
  SeriesAggregator(core::MetricSpec spec, TimeZone zone, std::int64_t late_window_s);

  ApplyOutcome Apply(core::TimeUs ts, double value);

  // Hourly buckets keyed by hour start (UTC); daily buckets keyed by local day (days since
  // 1970-01-01 in the zone).
  const std::map<core::TimeUs, BucketStats>& hourly() const { return hourly_; }
  const std::map<std::int64_t, BucketStats>& daily() const { return daily_; }
  std::int64_t late() const { return late_; }
  std::size_t window_size() const { return window_.size(); }

 private:
  void AddDeltaAt(core::TimeUs ts, double delta);
  void Prune();

  core::MetricSpec spec_;
  TimeZone zone_;
  core::TimeUs late_window_us_;
  std::optional<core::TimeUs> newest_;
  std::map<core::TimeUs, double> window_;
  std::map<core::TimeUs, BucketStats> hourly_;
  std::map<std::int64_t, BucketStats> daily_;
  std::int64_t late_ = 0;
};

}  // namespace fieldsync::store
