#include "store/aggregate_store.hpp"

#include <utility>

#include "store/aggregate_rows.hpp"
#include "store/aggregate_schema.hpp"
#include "store/aggregate_series.hpp"
#include "store/counter_delta.hpp"

namespace fieldsync::store {
namespace {

// The statistics columns of both bucket tables fold one reading in the same way; `%KEY%` is the
// bucket table's key. Every expression on the right reads the row as it was before the update.
constexpr const char* kFoldStats = R"sql(
  n = n + 1, sum_v = sum_v + excluded.sum_v,
  min_v = min(min_v, excluded.min_v), max_v = max(max_v, excluded.max_v),
  last_v = CASE WHEN excluded.last_ts > last_ts THEN excluded.last_v ELSE last_v END,
  last_ts = max(last_ts, excluded.last_ts),
  delta = CASE WHEN excluded.delta IS NULL THEN delta ELSE coalesce(delta, 0) + excluded.delta END,
  optimal_n = CASE WHEN excluded.optimal_n IS NULL THEN optimal_n
                   ELSE coalesce(optimal_n, 0) + excluded.optimal_n END,
  critical_n = CASE WHEN excluded.critical_n IS NULL THEN critical_n
                    ELSE coalesce(critical_n, 0) + excluded.critical_n END,
  version = version + 1)sql";

const std::string kFoldHourly =
    std::string(R"sql(INSERT INTO agg_hourly(series_id, bucket, n, sum_v, min_v, max_v, last_v,
  last_ts, delta, optimal_n, critical_n) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
  ON CONFLICT(series_id, bucket) DO UPDATE SET)sql") +
    kFoldStats;
const std::string kFoldDaily =
    std::string(R"sql(INSERT INTO agg_daily(series_id, day, n, sum_v, min_v, max_v, last_v,
  last_ts, delta, optimal_n, critical_n, tz, start_ts, end_ts)
  VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
  ON CONFLICT(series_id, day) DO UPDATE SET)sql") +
    kFoldStats;
const std::string kAddDeltaHourly =
    "UPDATE agg_hourly SET delta = coalesce(delta, 0) + ?3, version = version + 1 "
    "WHERE series_id = ?1 AND bucket = ?2";
const std::string kAddDeltaDaily =
    "UPDATE agg_daily SET delta = coalesce(delta, 0) + ?3, version = version + 1 "
    "WHERE series_id = ?1 AND day = ?2";

core::Error Context(const core::Error& e, const char* what) { return e.Wrap(what); }

}  // namespace

core::Expected<AggregateStore> AggregateStore::Open(
    Database& db, const AggregateOptions& options,
    std::map<std::string, core::MetricSpec> metrics) {
  auto zone = TimeZone::FromName(options.timezone);
  if (!zone) return zone.error().Wrap("[aggregate] timezone");
  if (core::Status s = EnsureAggregateSchema(db); !s) return s.error();
  return AggregateStore(db, options, *zone, std::move(metrics));
}

void AggregateStore::SetMetricSpecs(std::map<std::string, core::MetricSpec> metrics) {
  metrics_ = std::move(metrics);
}

const core::MetricSpec& AggregateStore::SpecOf(const std::string& metric) const {
  auto it = metrics_.find(metric);
  return it == metrics_.end() ? default_spec_ : it->second;
}

namespace {

struct SeriesState {
  std::int64_t id = 0;
  std::optional<core::TimeUs> newest;
};

core::Expected<SeriesState> LoadSeries(Database& db, const core::Reading& r) {
  auto find = db.Cached("SELECT id FROM series WHERE device = ?1 AND metric = ?2");
  if (!find) return find.error();
  if (auto s = (*find)->Bind(1, r.device); !s) return s.error();
  if (auto s = (*find)->Bind(2, r.metric); !s) return s.error();
  auto row = (*find)->Step();
  if (!row) return row.error();
  if (!*row) {
    return core::MakeError(core::Errc::kInternal,
                           "no series row for " + r.device + "/" + r.metric + " while aggregating");
  }
  SeriesState state{(*find)->ColumnInt64(0), std::nullopt};
  auto newest = db.Cached("SELECT newest_ts FROM agg_state WHERE series_id = ?1");
  if (!newest) return newest.error();
  if (auto s = (*newest)->Bind(1, state.id); !s) return s.error();
  auto has = (*newest)->Step();
  if (!has) return has.error();
  if (*has && !(*newest)->ColumnIsNull(0)) state.newest = (*newest)->ColumnInt64(0);
  return state;
}

core::Expected<std::optional<CounterPoint>> Neighbour(Database& db, std::int64_t series,
                                                      core::TimeUs ts, bool before) {
  auto stmt = db.Cached(before ? "SELECT ts, value FROM agg_window WHERE series_id = ?1 AND "
                                 "ts < ?2 ORDER BY ts DESC LIMIT 1"
                               : "SELECT ts, value FROM agg_window WHERE series_id = ?1 AND "
                                 "ts > ?2 ORDER BY ts LIMIT 1");
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, series); !s) return s.error();
  if (auto s = (*stmt)->Bind(2, ts); !s) return s.error();
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<CounterPoint>();
  return std::optional<CounterPoint>(
      CounterPoint{(*stmt)->ColumnInt64(0), (*stmt)->ColumnDouble(1)});
}

core::Status RunWith(Database& db, const std::string& sql, std::int64_t a, std::int64_t b,
                     std::optional<double> c = std::nullopt) {
  auto stmt = db.Cached(sql);
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, a); !s) return s;
  if (auto s = (*stmt)->Bind(2, b); !s) return s;
  if (c) {
    if (auto s = (*stmt)->Bind(3, *c); !s) return s;
  }
  return (*stmt)->Run();
}

}  // namespace

core::Expected<ApplyCounts> AggregateStore::Apply(const std::vector<core::Reading>& readings) {
  ApplyCounts counts;
  const core::TimeUs window_us = options_.late_window_s * core::kMicrosPerSecond;
  for (const core::Reading& r : readings) {
    auto state = LoadSeries(*db_, r);
    if (!state) return state.error();
    const std::int64_t series = state->id;
    if (IsLate(r.ts, state->newest, window_us)) {
      ++counts.late;
      continue;
    }
    auto dup = db_->Cached("SELECT 1 FROM agg_window WHERE series_id = ?1 AND ts = ?2");
    if (!dup) return dup.error();
    if (auto s = (*dup)->Bind(1, series); !s) return s.error();
    if (auto s = (*dup)->Bind(2, r.ts); !s) return s.error();
    auto is_dup = (*dup)->Step();
    if (!is_dup) return is_dup.error();
    if (*is_dup) {
      ++counts.duplicates;
      continue;
    }

    const core::MetricSpec& spec = SpecOf(r.metric);
    BucketStats one;
    AddReading(one, r.ts, r.value, spec);
    std::optional<DeltaChange> next_change;
    if (spec.kind == core::MetricKind::kCounter) {
      auto prev = Neighbour(*db_, series, r.ts, true);
      if (!prev) return prev.error();
      std::optional<CounterPoint> next;
      if (state->newest && r.ts < *state->newest) {
        auto found = Neighbour(*db_, series, r.ts, false);
        if (!found) return found.error();
        next = *found;
      }
      InsertionDeltas d = DeltasOfInsertion(*prev, CounterPoint{r.ts, r.value}, next, spec.jitter);
      one.delta = d.own.delta;
      next_change = d.next;
    }

    const std::int64_t day = zone_.LocalDay(r.ts);
    auto hourly = db_->Cached(kFoldHourly);
    if (!hourly) return hourly.error();
    if (auto s = (*hourly)->Bind(1, series); !s) return s.error();
    if (auto s = (*hourly)->Bind(2, HourBucketStart(r.ts)); !s) return s.error();
    if (auto s = BindStats(**hourly, 3, one); !s) return s.error();
    if (auto s = (*hourly)->Run(); !s) return Context(s.error(), "updating an hourly bucket");
    auto daily = db_->Cached(kFoldDaily);
    if (!daily) return daily.error();
    if (auto s = (*daily)->Bind(1, series); !s) return s.error();
    if (auto s = (*daily)->Bind(2, day); !s) return s.error();
    if (auto s = BindStats(**daily, 3, one); !s) return s.error();
    if (auto s = (*daily)->Bind(12, zone_.name()); !s) return s.error();
    if (auto s = (*daily)->Bind(13, zone_.DayStart(day)); !s) return s.error();
    if (auto s = (*daily)->Bind(14, zone_.DayEnd(day)); !s) return s.error();
    if (auto s = (*daily)->Run(); !s) return Context(s.error(), "updating a daily bucket");
    // The next reading's bucket exists: that reading was aggregated before.
    if (next_change && next_change->delta != 0.0) {
      if (auto s = RunWith(*db_, kAddDeltaHourly, series, HourBucketStart(next_change->ts),
                           next_change->delta);
          !s) {
        return s.error();
      }
      if (auto s = RunWith(*db_, kAddDeltaDaily, series, zone_.LocalDay(next_change->ts),
                           next_change->delta);
          !s) {
        return s.error();
      }
    }

    if (auto s = RunWith(*db_, "INSERT INTO agg_window(series_id, ts, value) VALUES(?1, ?2, ?3)",
                         series, r.ts, r.value);
        !s) {
      return s.error();
    }
    if (!state->newest || r.ts > *state->newest) {
      if (auto s = RunWith(*db_,
                           "INSERT INTO agg_state(series_id, newest_ts) VALUES(?1, ?2) "
                           "ON CONFLICT(series_id) DO UPDATE SET newest_ts = excluded.newest_ts",
                           series, r.ts);
          !s) {
        return s.error();
      }
      // Keep the window from the cutoff on, plus the last reading before it (the anchor).
      if (auto s = RunWith(*db_,
                           "DELETE FROM agg_window WHERE series_id = ?1 AND ts < (SELECT max(ts) "
                           "FROM agg_window WHERE series_id = ?1 AND ts < ?2)",
                           series, r.ts - window_us);
          !s) {
        return s.error();
      }
    }
    ++counts.aggregated;
  }
  if (counts.late > 0) {
    auto late = db_->Cached("UPDATE counters SET n = n + ?1 WHERE name = 'late'");
    if (!late) return late.error();
    if (auto s = (*late)->Bind(1, counts.late); !s) return s.error();
    if (auto s = (*late)->Run(); !s) return s.error();
  }
  return counts;
}

}  // namespace fieldsync::store
