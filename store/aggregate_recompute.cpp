// AggregateStore::Recompute: buckets rebuilt from the raw readings still in the store, for the
// `aggregate` and `backfill` commands. A bucket is rewritten only when all of its readings are
// still local, which agg_removed (counted by Removed for every reading that leaves `readings`)
// tells.
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/aggregate_rows.hpp"
#include "store/aggregate_schema.hpp"
#include "store/aggregate_store.hpp"
#include "store/counter_delta.hpp"
#include "store/schema.hpp"

namespace fieldsync::store {
namespace {

struct Point {
  core::TimeUs ts;
  double value;
};

// The last local reading of a counter series before `ts`, the predecessor of its first step in
// the range. A backward scan of the time-first keys from `ts` that ends at the series' newest
// earlier local (pending, not held) reading; asked once per counter series of the range.
core::Expected<std::optional<Point>> LocalPredecessor(Database& db, std::int64_t series,
                                                      core::TimeUs ts) {
  auto prev = db.Cached(std::string("SELECT ts, value FROM reading_keys WHERE ts < ?2 AND "
                                    "series_id = ?1 AND aside <> 1 AND ") +
                        kKeyIsPending + " ORDER BY ts DESC LIMIT 1");
  if (!prev) return prev.error();
  if (auto s = (*prev)->Bind(1, series); !s) return s.error();
  if (auto s = (*prev)->Bind(2, ts); !s) return s.error();
  auto has = (*prev)->Step();
  if (!has) return has.error();
  if (!*has) return std::optional<Point>();
  return std::optional<Point>(Point{(*prev)->ColumnInt64(0), (*prev)->ColumnDouble(1)});
}

// The ts of the first local reading at or after `ts`, if any: where the next non-empty bucket
// starts.
core::Expected<std::optional<core::TimeUs>> NextLocalTs(Database& db, core::TimeUs ts) {
  auto next =
      db.Cached(std::string("SELECT ts FROM reading_keys WHERE ts >= ?1 AND aside <> 1 AND ") +
                kKeyIsPending + " ORDER BY ts LIMIT 1");
  if (!next) return next.error();
  if (auto s = (*next)->Bind(1, ts); !s) return s.error();
  auto has = (*next)->Step();
  if (!has) return has.error();
  if (!*has) return std::optional<core::TimeUs>();
  return std::optional<core::TimeUs>((*next)->ColumnInt64(0));
}

// A series as the recompute walks it: its spec, and its last reading so far (counters only).
struct SeriesWalk {
  const core::MetricSpec* spec = nullptr;
  std::optional<Point> pred;
};

// One bucket of one series rebuilt from the local readings.
struct Rebuilt {
  BucketStats stats;
  // Where nothing may have been removed for the bucket to be complete: the bucket's start, or
  // for a counter the predecessor of its first step (nullopt: since the series began).
  std::optional<core::TimeUs> check_from;
};

// True when no reading of the series with ts in [from, to) was ever removed from `readings`;
// `from` empty means "since the beginning of the series".
core::Expected<bool> NothingRemoved(Database& db, std::int64_t series,
                                    std::optional<core::TimeUs> from, core::TimeUs to) {
  const std::int64_t q_from = from ? *from / kRemovalQuarterUs : INT64_MIN;
  const std::int64_t q_to = (to + kRemovalQuarterUs - 1) / kRemovalQuarterUs;
  auto stmt = db.Cached(
      "SELECT (SELECT count(*) FROM agg_removed WHERE series_id = ?1 AND quarter >= ?2 AND "
      "quarter < ?3) + (SELECT count(*) FROM agg_state WHERE series_id = ?1 AND "
      "removed_through >= ?2)");
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, series); !s) return s.error();
  if (auto s = (*stmt)->Bind(2, q_from); !s) return s.error();
  if (auto s = (*stmt)->Bind(3, q_to); !s) return s.error();
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  return *row && (*stmt)->ColumnInt64(0) == 0;
}

}  // namespace

core::Expected<RecomputeCounts> AggregateStore::Recompute(BucketKind kind, core::TimeUs from,
                                                          core::TimeUs to, bool dry_run) {
  const bool hourly = kind == BucketKind::kHourly;
  // Widen the range to whole buckets.
  core::TimeUs lo = hourly ? HourBucketStart(from) : zone_.DayStart(zone_.LocalDay(from));
  core::TimeUs hi = hourly ? HourBucketStart(to - 1) + core::kMicrosPerHour
                           : zone_.DayEnd(zone_.LocalDay(to - 1));
  auto bucket_of = [&](core::TimeUs ts) {
    return hourly ? HourBucketStart(ts) : zone_.LocalDay(ts);
  };
  auto bucket_range = [&](std::int64_t key) {
    return hourly ? std::pair{key, key + core::kMicrosPerHour}
                  : std::pair{zone_.DayStart(key), zone_.DayEnd(key)};
  };

  // The stored readings are folded first, so that the buckets compared or deleted include every
  // reading. A dry run does it in a transaction that is rolled back: nothing is written.
  auto tx = BeginFolded();
  if (!tx) return tx.error();
  RecomputeCounts counts;
  std::unordered_map<std::int64_t, SeriesWalk> walks;
  // Bucket by bucket in time order, over the time-first keys: one pass over the range's
  // readings, each series' readings in ts order, and no more memory than one bucket's sums.
  core::TimeUs cursor = lo;
  while (cursor < hi) {
    auto next = NextLocalTs(*db_, cursor);
    if (!next) return next.error();
    if (!*next || **next >= hi) break;
    const std::int64_t key = bucket_of(**next);
    const auto [start, end] = bucket_range(key);
    cursor = end;
    std::map<std::int64_t, Rebuilt> bucket;
    {
      auto rows = db_->Cached(std::string("SELECT series_id, ts, value FROM reading_keys WHERE "
                                          "ts >= ?1 AND ts < ?2 AND aside <> 1 AND ") +
                              kKeyIsPending + " ORDER BY ts");
      if (!rows) return rows.error();
      if (auto s = (*rows)->Bind(1, start); !s) return s.error();
      if (auto s = (*rows)->Bind(2, end); !s) return s.error();
      while (true) {
        auto row = (*rows)->Step();
        if (!row) return row.error();
        if (!*row) break;
        const std::int64_t series = (*rows)->ColumnInt64(0);
        const Point p{(*rows)->ColumnInt64(1), (*rows)->ColumnDouble(2)};
        auto walk = walks.find(series);
        if (walk == walks.end()) {
          auto spec = SpecOfSeries(series);
          if (!spec) return spec.error();
          SeriesWalk w{*spec, std::nullopt};
          if (w.spec->kind == core::MetricKind::kCounter) {
            auto pred = LocalPredecessor(*db_, series, lo);
            if (!pred) return pred.error();
            w.pred = *pred;
          }
          walk = walks.emplace(series, w).first;
        }
        SeriesWalk& w = walk->second;
        const bool counter = w.spec->kind == core::MetricKind::kCounter;
        auto [entry, first] = bucket.try_emplace(series);
        Rebuilt& rebuilt = entry->second;
        if (first) {
          // A counter's first step in the bucket needs its true predecessor: nothing may have
          // been removed between that reading (or the series' start) and the bucket's end.
          rebuilt.check_from = start;
          if (counter) rebuilt.check_from = w.pred ? std::optional(w.pred->ts) : std::nullopt;
        }
        AddReading(rebuilt.stats, p.ts, p.value, *w.spec);
        if (counter) {
          if (w.pred) AddDelta(rebuilt.stats, CounterStep(w.pred->value, p.value, w.spec->jitter));
          w.pred = p;
        }
      }
    }
    for (const auto& [series, rebuilt] : bucket) {
      const BucketStats& stats = rebuilt.stats;
      ++counts.buckets;
      auto complete = NothingRemoved(*db_, series, rebuilt.check_from, end);
      if (!complete) return complete.error();
      if (!*complete) {
        ++counts.skipped_incomplete;
        continue;
      }

      auto stored = db_->Cached(
          hourly ? "SELECT n, sum_v, min_v, max_v, last_v, last_ts, delta, optimal_n, critical_n "
                   "FROM agg_hourly WHERE series_id = ?1 AND bucket = ?2"
                 : "SELECT n, sum_v, min_v, max_v, last_v, last_ts, delta, optimal_n, critical_n "
                   "FROM agg_daily WHERE series_id = ?1 AND day = ?2");
      if (!stored) return stored.error();
      if (auto s = (*stored)->Bind(1, series); !s) return s.error();
      if (auto s = (*stored)->Bind(2, key); !s) return s.error();
      auto found = (*stored)->Step();
      if (!found) return found.error();
      if (*found && SameStats(ReadStats(**stored, 0), stats)) continue;
      ++counts.rewritten;
      if (dry_run) continue;

      auto write = db_->Cached(
          hourly ? "INSERT INTO agg_hourly(series_id, bucket, n, sum_v, min_v, max_v, last_v, "
                   "last_ts, delta, optimal_n, critical_n) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                   "ON CONFLICT(series_id, bucket) DO UPDATE SET n = excluded.n, "
                   "sum_v = excluded.sum_v, min_v = excluded.min_v, max_v = excluded.max_v, "
                   "last_v = excluded.last_v, last_ts = excluded.last_ts, delta = excluded.delta, "
                   "optimal_n = excluded.optimal_n, critical_n = excluded.critical_n, "
                   "version = version + 1"
                 : "INSERT INTO agg_daily(series_id, day, n, sum_v, min_v, max_v, last_v, "
                   "last_ts, delta, optimal_n, critical_n, tz, start_ts, end_ts) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
                   "ON CONFLICT(series_id, day) DO UPDATE SET n = excluded.n, "
                   "sum_v = excluded.sum_v, min_v = excluded.min_v, max_v = excluded.max_v, "
                   "last_v = excluded.last_v, last_ts = excluded.last_ts, delta = excluded.delta, "
                   "optimal_n = excluded.optimal_n, critical_n = excluded.critical_n, "
                   "tz = excluded.tz, start_ts = excluded.start_ts, end_ts = excluded.end_ts, "
                   "version = version + 1");
      if (!write) return write.error();
      if (auto s = (*write)->Bind(1, series); !s) return s.error();
      if (auto s = (*write)->Bind(2, key); !s) return s.error();
      if (auto s = BindStats(**write, 3, stats); !s) return s.error();
      if (!hourly) {
        if (auto s = (*write)->Bind(12, zone_.name()); !s) return s.error();
        if (auto s = (*write)->Bind(13, start); !s) return s.error();
        if (auto s = (*write)->Bind(14, end); !s) return s.error();
      }
      if (auto s = (*write)->Run(); !s) return s.error();
    }
  }
  if (*tx && !dry_run) {
    if (auto s = (*tx)->Commit(); !s) return s.error();
  }
  return counts;
}

}  // namespace fieldsync::store
