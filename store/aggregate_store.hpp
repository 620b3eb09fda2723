#pragma once
// AggregateStore: hourly and daily buckets of §4 kept in the store's SQLite database, maintained
// incrementally from the outbox as the store's OutboxObserver, so that raw readings can be
// uploaded and deleted at any moment without changing an aggregate. The algorithm is
// SeriesAggregator's (aggregate_series.hpp) over tables (aggregate_schema.hpp): late window,
// counter deltas recomputed in ts order. Duplicates never reach it: the store's key table, which
// is also the late window, refuses them at ingest.
//
// Folding. Readings are folded into their buckets in id (arrival) order, in batches: `agg_fold`
// holds the id of the last reading folded, and every reading above it is still in `readings`
// (a trigger refuses to delete one). A fold runs inside a store transaction when a commit brings
// the unfolded readings to kFoldReadings or the last fold is kFoldInterval old, before any
// reading leaves the outbox (Settle), before buckets are read for upload, recomputed or cleaned
// up, and before the metric specs change. A commit's fold stays within the room the store gives
// it (the WAL's share of a nearly full disk) and goes on at the next commits. Folding many
// readings at once writes each touched bucket and window page once per fold instead of once per
// commit (flash wear, ingest rate); the result is the same as folding reading by reading, since
// the order is the same. A crash
// between two folds loses nothing: the unfolded readings are still in the outbox.
//
// Ownership: borrows the Database, which must outlive it. Not thread-safe: the thread that owns
// the Store owns its AggregateStore.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/expected.hpp"
#include "core/metric_spec.hpp"
#include "core/reading.hpp"
#include "core/time.hpp"
#include "store/bucket.hpp"
#include "store/outbox_observer.hpp"
#include "store/sqlite.hpp"
#include "store/store_options.hpp"
#include "store/time_zone.hpp"

namespace fieldsync::store {

// What Apply did with a batch of readings.
struct ApplyCounts {
  std::int64_t aggregated = 0;
  std::int64_t late = 0;  // older than the late window; also added to counters.'late'
};

// A reading as the aggregates see it: its series, ts and value, and which readings were folded
// before it: those with ids below folded_below (its own id in a fold; agg_fold + 1 for readings
// released from hold, which are folded after everything stored before the release).
struct SeriesPoint {
  std::int64_t series_id = 0;
  core::TimeUs ts = 0;
  double value = 0;
  std::int64_t folded_below = 0;
  bool released = false;  // released from hold: its key is aside until it is folded
};

struct HourlyRow {
  std::int64_t series_id = 0;
  std::string device;
  std::string metric;
  core::TimeUs bucket = 0;  // hour start, UTC
  BucketStats stats;
  std::int64_t version = 0;  // pass back to MarkUploaded
};

struct DailyRow {
  std::int64_t series_id = 0;
  std::string device;
  std::string metric;
  std::int64_t day = 0;  // local date, days since 1970-01-01
  std::string tz;        // the zone the day was cut in
  core::TimeUs start = 0;
  core::TimeUs end = 0;
  BucketStats stats;
  std::int64_t version = 0;
};

// The last fully closed hour and day: their end lies at least late_window_s in the past, so no
// reading that the late window still accepts can change them (for a clock-trusted gateway).
struct Watermarks {
  core::TimeUs hourly = 0;  // start of the last closed UTC hour
  std::int64_t daily = 0;   // last closed local day
};

enum class BucketKind : unsigned char { kHourly, kDaily };

struct RecomputeCounts {
  std::int64_t buckets = 0;    // buckets with local readings in the range
  std::int64_t rewritten = 0;  // differed from the stored bucket (or were missing) and were
                               // written (with dry_run: would be written)
  std::int64_t skipped_incomplete = 0;  // some of their readings are no longer local
};

struct CleanupCounts {
  std::int64_t hourly = 0;
  std::int64_t daily = 0;
  std::int64_t kept_pending = 0;  // past retention but not yet uploaded: kept
};

class AggregateStore final : public OutboxObserver {
 public:
  // A commit folds once this many readings are unfolded, or the last fold is this old.
  static constexpr std::size_t kFoldReadings = 16384;
  static constexpr std::chrono::seconds kFoldInterval{5};

  // Creates the aggregate tables if missing (EnsureAggregateSchema). `metrics` gives each
  // metric's kind, jitter and profile; a metric not listed is a gauge without profile.
  // Fails with kInvalidArgument for an unknown time zone.
  static core::Expected<AggregateStore> Open(Database& db, const AggregateOptions& options,
                                             std::map<std::string, core::MetricSpec> metrics);

  // A new profile (config reload, fetched profiles) applies to readings that arrive after it:
  // the readings stored so far are folded with the old one first. A failed fold is retried by
  // the next; those readings are then folded with the new profile.
  void SetMetricSpecs(std::map<std::string, core::MetricSpec> metrics);

  // Folds every reading stored so far into its buckets (in its own transaction unless one is
  // open). Returns how many readings it folded.
  core::Expected<std::int64_t> FoldAll();
  // Readings stored but not yet folded.
  core::Expected<std::int64_t> UnfoldedCount();

  // Folds these readings into their buckets, in order, now. REQUIRES: the readings are
  // rows of `readings` (their series exist) that no fold will meet (below agg_fold), and a
  // transaction is open; an error leaves partial changes that the caller must roll back.
  core::Expected<ApplyCounts> Apply(const std::vector<core::Reading>& readings);

  // OutboxObserver (outbox_observer.hpp), called by the store inside its transactions.
  core::Status Stored(Database& db, std::size_t count, std::int64_t room_bytes) override;
  core::Status Settle(Database& db, std::int64_t through) override;
  core::Status Removed(Database& db, const std::vector<RemovedReading>& removed) override;
  core::Status Released(Database& db, const std::vector<core::Reading>& released) override;
  core::Status Restored(Database& db) override;
  core::Expected<std::int64_t> IdFloor(Database& db) override;

  // Buckets changed since their last upload, oldest first, at most `limit`.
  core::Expected<std::vector<HourlyRow>> PendingHourly(std::size_t limit);
  core::Expected<std::vector<DailyRow>> PendingDaily(std::size_t limit);
  // Records that the remote holds these rows at the version they were read with; a row changed
  // since then stays pending. Returns how many rows were marked.
  core::Expected<std::int64_t> MarkUploaded(const std::vector<HourlyRow>& rows);
  core::Expected<std::int64_t> MarkUploaded(const std::vector<DailyRow>& rows);
  // Buckets an upload would send now (pending ones, and those the unfolded readings would
  // change), counted without writing anything.
  core::Expected<std::int64_t> PendingCount();

  Watermarks WatermarksAt(core::TimeUs now) const;

  // Recomputes buckets overlapping [from, to) from the raw readings still in `readings`, and
  // rewrites those whose readings are all still local (none removed; for a counter also none
  // between the bucket and its predecessor reading) and whose result differs. Uses the current
  // metric specs. Includes raw readings that were late for the incremental path.
  core::Expected<RecomputeCounts> Recompute(BucketKind kind, core::TimeUs from, core::TimeUs to,
                                            bool dry_run);

  // Deletes buckets that ended before now - retention days and were uploaded (never a pending
  // one). Negative retention: use the configured one.
  core::Expected<CleanupCounts> Cleanup(core::TimeUs now, bool dry_run,
                                        std::int64_t hourly_retention_days = -1,
                                        std::int64_t daily_retention_days = -1);

  const TimeZone& zone() const { return zone_; }

 private:
  AggregateStore(Database& db, AggregateOptions options, TimeZone zone,
                 std::map<std::string, core::MetricSpec> metrics)
      : db_(&db), options_(std::move(options)), zone_(zone), metrics_(std::move(metrics)) {}
  const core::MetricSpec& SpecOf(const std::string& metric) const;
  core::Expected<const core::MetricSpec*> SpecOfSeries(std::int64_t series_id);
  // Folds `points` in order. Reading ids below `folded_below` are folded when it returns.
  core::Expected<ApplyCounts> ApplyPoints(const std::vector<SeriesPoint>& points,
                                          std::int64_t folded_below);
  struct FoldCounts {
    std::int64_t folded = 0;  // readings folded
    bool complete = true;     // false: max_ids stopped the fold short of `through`
  };
  // Folds the readings with ids in (agg_fold, min(through, newest id, agg_fold + max_ids)] and
  // moves agg_fold there. REQUIRES: a transaction is open.
  core::Expected<FoldCounts> FoldThrough(std::int64_t through, std::int64_t max_ids = INT64_MAX);
  // Opens a transaction unless one is open (nullopt then), and folds every stored reading in it;
  // the caller commits, or lets it roll back (counts and dry runs that must write nothing).
  core::Expected<std::optional<Transaction>> BeginFolded(std::int64_t* folded = nullptr);
  // Restarts the commit path's fold schedule (after a fold that is committed with everything).
  void NoteFolded();

  Database* db_;
  AggregateOptions options_;
  TimeZone zone_;
  std::map<std::string, core::MetricSpec> metrics_;
  core::MetricSpec default_spec_;
  std::unordered_map<std::int64_t, std::string> series_metric_;  // series id -> metric
  std::size_t unfolded_ = 0;  // readings this connection stored since its last fold
  std::chrono::steady_clock::time_point last_fold_ = std::chrono::steady_clock::now();
};

}  // namespace fieldsync::store
