#pragma once
// Bucket statistics of §4: what one hourly or daily bucket of one (device, metric) series holds,
// and the pure rules that fold a reading into it. No I/O; the SQLite tables in aggregate_store
// hold exactly these fields.

#include <cstdint>
#include <optional>

#include "core/metric_spec.hpp"
#include "core/time.hpp"

namespace fieldsync::store {

// Start of the UTC hour [hh:00, hh+1:00) holding `ts`.
constexpr core::TimeUs HourBucketStart(core::TimeUs ts) {
  return core::FloorDiv(ts, core::kMicrosPerHour) * core::kMicrosPerHour;
}

// How one value stands against a condition profile. A value may be neither optimal nor
// critical (between the optimal range and a critical bound).
struct Condition {
  bool optimal = false;   // lo <= v <= hi
  bool critical = false;  // v < critical_lo or v > critical_hi
};
Condition Classify(const core::ConditionProfile& profile, double value);

struct BucketStats {
  std::int64_t n = 0;
  double sum = 0.0;
  double min = 0.0;  // meaningful when n > 0
  double max = 0.0;
  double last = 0.0;  // value at last_ts, the latest ts in the bucket
  core::TimeUs last_ts = 0;
  // Counters only: sum of the steps whose later reading falls in this bucket (counter_delta.hpp).
  std::optional<double> delta;
  // Set once a reading arrives while its metric has a condition profile; null otherwise.
  std::optional<std::int64_t> optimal_n;
  std::optional<std::int64_t> critical_n;

  std::optional<double> avg() const;
  // 100 * optimal_n / n; null without a profile or without readings.
  std::optional<double> optimal_pct() const;
  std::optional<double> critical_pct() const;

  friend bool operator==(const BucketStats&, const BucketStats&) = default;
};

// Folds one reading into `bucket`: n, sum, min, max, last/last_ts, and the condition counts when
// `spec` has a profile. A counter's bucket gets delta = 0 if it had none; the step itself is
// added separately (AddDelta) because it depends on the series' previous reading.
// REQUIRES: no reading with this ts is already in the bucket (ts is part of the reading's key).
void AddReading(BucketStats& bucket, core::TimeUs ts, double value, const core::MetricSpec& spec);

void AddDelta(BucketStats& bucket, double delta);

}  // namespace fieldsync::store
