// AggregateStore::Recompute: buckets rebuilt from the raw readings still in the store, for the
// `aggregate` and `backfill` commands. A bucket is rewritten only when all of its readings are
// still local, which agg_removed (counted by a trigger on every delete from `readings`) tells.
#include <vector>

#include "store/aggregate_rows.hpp"
#include "store/aggregate_schema.hpp"
#include "store/aggregate_store.hpp"
#include "store/counter_delta.hpp"

namespace fieldsync::store {
namespace {

struct Point {
  core::TimeUs ts;
  double value;
};

struct Series {
  std::int64_t id;
  std::string metric;
};

core::Expected<std::vector<Series>> SeriesWithReadings(Database& db, core::TimeUs from,
                                                       core::TimeUs to) {
  auto stmt = db.Prepare(
      "SELECT s.id, s.metric FROM series s WHERE EXISTS "
      "(SELECT 1 FROM readings r WHERE r.series_id = s.id AND r.ts >= ?1 AND r.ts < ?2 "
      "AND r.ts_source <> 3)");
  if (!stmt) return stmt.error();
  if (auto s = stmt->Bind(1, from); !s) return s.error();
  if (auto s = stmt->Bind(2, to); !s) return s.error();
  std::vector<Series> out;
  while (true) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(Series{stmt->ColumnInt64(0), stmt->ColumnText(1)});
  }
  return out;
}

// Readings of the series in [from, to) in ts order, preceded by the last one before `from`
// (if any): returns that predecessor separately.
core::Expected<std::vector<Point>> LocalReadings(Database& db, std::int64_t series,
                                                 core::TimeUs from, core::TimeUs to,
                                                 std::optional<Point>& before) {
  auto prev = db.Prepare(
      "SELECT ts, value FROM readings WHERE series_id = ?1 AND ts < ?2 AND ts_source <> 3 "
      "ORDER BY ts DESC LIMIT 1");
  if (!prev) return prev.error();
  if (auto s = prev->Bind(1, series); !s) return s.error();
  if (auto s = prev->Bind(2, from); !s) return s.error();
  auto has = prev->Step();
  if (!has) return has.error();
  before.reset();
  if (*has) before = Point{prev->ColumnInt64(0), prev->ColumnDouble(1)};

  auto stmt = db.Prepare(
      "SELECT ts, value FROM readings WHERE series_id = ?1 AND ts >= ?2 AND ts < ?3 "
      "AND ts_source <> 3 ORDER BY ts");
  if (!stmt) return stmt.error();
  if (auto s = stmt->Bind(1, series); !s) return s.error();
  if (auto s = stmt->Bind(2, from); !s) return s.error();
  if (auto s = stmt->Bind(3, to); !s) return s.error();
  std::vector<Point> out;
  while (true) {
    auto row = stmt->Step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(Point{stmt->ColumnInt64(0), stmt->ColumnDouble(1)});
  }
  return out;
}

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
  auto series_list = SeriesWithReadings(*db_, lo, hi);
  if (!series_list) return series_list.error();
  RecomputeCounts counts;
  for (const Series& series : *series_list) {
    const core::MetricSpec& spec = SpecOf(series.metric);
    const bool counter = spec.kind == core::MetricKind::kCounter;
    std::optional<Point> before;
    auto points = LocalReadings(*db_, series.id, lo, hi, before);
    if (!points) return points.error();

    std::size_t i = 0;
    while (i < points->size()) {
      const std::int64_t key = bucket_of((*points)[i].ts);
      const auto [start, end] = bucket_range(key);
      std::optional<Point> pred = i > 0 ? std::optional<Point>((*points)[i - 1]) : before;
      // A counter's first step in the bucket needs its true predecessor: nothing may have been
      // removed between that reading (or the series' start) and the bucket's end.
      std::optional<core::TimeUs> check_from = start;
      if (counter) check_from = pred ? std::optional<core::TimeUs>(pred->ts) : std::nullopt;
      BucketStats stats;
      for (; i < points->size() && bucket_of((*points)[i].ts) == key; ++i) {
        const Point& p = (*points)[i];
        AddReading(stats, p.ts, p.value, spec);
        if (counter && pred) AddDelta(stats, CounterStep(pred->value, p.value, spec.jitter));
        pred = p;
      }
      ++counts.buckets;
      auto complete = NothingRemoved(*db_, series.id, check_from, end);
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
      if (auto s = (*stored)->Bind(1, series.id); !s) return s.error();
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
      if (auto s = (*write)->Bind(1, series.id); !s) return s.error();
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
