#include "store/aggregate_store.hpp"

#include <string>
#include <unordered_map>
#include <utility>

#include "store/aggregate_rows.hpp"
#include "store/aggregate_schema.hpp"
#include "store/aggregate_series.hpp"
#include "store/counter_delta.hpp"

namespace fieldsync::store {
namespace {

// Merges a partial bucket (the readings and delta changes of one Apply call) into the stored row.
// A partial may hold only a delta change (n = 0) for a bucket that already exists. Every
// expression on the right reads the row as it was before the update.
constexpr const char* kFoldStats = R"sql(
  n = n + excluded.n, sum_v = sum_v + excluded.sum_v,
  min_v = CASE WHEN excluded.n = 0 THEN min_v ELSE min(min_v, excluded.min_v) END,
  max_v = CASE WHEN excluded.n = 0 THEN max_v ELSE max(max_v, excluded.max_v) END,
  last_v = CASE WHEN excluded.n > 0 AND excluded.last_ts > last_ts THEN excluded.last_v
                ELSE last_v END,
  last_ts = CASE WHEN excluded.n > 0 THEN max(last_ts, excluded.last_ts) ELSE last_ts END,
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
  (void)FoldAll();  // see the header: a failure only moves those readings to the new specs
  metrics_ = std::move(metrics);
}

const core::MetricSpec& AggregateStore::SpecOf(const std::string& metric) const {
  auto it = metrics_.find(metric);
  return it == metrics_.end() ? default_spec_ : it->second;
}

namespace {

// One series as seen by one ApplyPoints call. Invariant: `newest` is the series' newest row of
// agg_window (the late window's reference), including the rows this call inserted.
struct SeriesCursor {
  const core::MetricSpec* spec = nullptr;
  std::optional<CounterPoint> newest;
  bool advanced = false;  // newest moved: the window needs pruning at the end of the call
};

core::Expected<std::optional<CounterPoint>> NewestInWindow(Database& db, std::int64_t series) {
  auto newest = db.Cached("SELECT ts, value FROM agg_newest WHERE series_id = ?1");
  if (!newest) return newest.error();
  if (auto s = (*newest)->Bind(1, series); !s) return s.error();
  auto has = (*newest)->Step();
  if (!has) return has.error();
  if (!*has) return std::optional<CounterPoint>();
  return std::optional<CounterPoint>(
      CounterPoint{(*newest)->ColumnInt64(0), (*newest)->ColumnDouble(1)});
}

core::Expected<std::optional<CounterPoint>> Neighbour(Database& db, std::int64_t series,
                                                      core::TimeUs ts, bool before) {
  // A scan from ts over the rows of every series, which ends at the series' first row: the
  // neighbours of a late reading are near it (and only late counter readings ask).
  auto stmt = db.Cached(before ? "SELECT ts, value FROM agg_window WHERE ts < ?2 AND "
                                 "series_id = ?1 ORDER BY ts DESC LIMIT 1"
                               : "SELECT ts, value FROM agg_window WHERE ts > ?2 AND "
                                 "series_id = ?1 ORDER BY ts LIMIT 1");
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, series); !s) return s.error();
  if (auto s = (*stmt)->Bind(2, ts); !s) return s.error();
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<CounterPoint>();
  return std::optional<CounterPoint>(
      CounterPoint{(*stmt)->ColumnInt64(0), (*stmt)->ColumnDouble(1)});
}

// Inserts the reading into the window; false when its ts is already there (a duplicate).
core::Expected<bool> EnterWindow(Database& db, const SeriesPoint& p) {
  auto stmt =
      db.Cached("INSERT OR IGNORE INTO agg_window(series_id, ts, value) VALUES(?1, ?2, ?3)");
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, p.series_id); !s) return s.error();
  if (auto s = (*stmt)->Bind(2, p.ts); !s) return s.error();
  if (auto s = (*stmt)->Bind(3, p.value); !s) return s.error();
  if (auto s = (*stmt)->Run(); !s) return s.error();
  return db.changes() > 0;
}

// Records the newest reading of each series that advanced and its anchor (the last window row
// before newest - window), then deletes the rows below every series' anchor: the window keeps
// the cutoff on, plus the anchor. Rows below an anchor are never anyone's neighbour. The delete
// walks the oldest rows only (those below the highest anchor).
core::Status Prune(Database& db, const std::unordered_map<std::int64_t, SeriesCursor>& cursors,
                   core::TimeUs window_us) {
  bool advanced = false;
  for (const auto& [series_id, cursor] : cursors) {
    if (!cursor.advanced) continue;
    advanced = true;
    auto anchor = Neighbour(db, series_id, cursor.newest->ts - window_us, true);
    if (!anchor) return anchor.error();
    auto stmt = db.Cached(
        "INSERT INTO agg_newest(series_id, ts, value, anchor_ts) VALUES(?1, ?2, ?3, ?4) "
        "ON CONFLICT(series_id) DO UPDATE SET ts = excluded.ts, value = excluded.value, "
        "anchor_ts = excluded.anchor_ts");
    if (!stmt) return stmt.error();
    core::Status s = (*stmt)->Bind(1, series_id);
    if (s) s = (*stmt)->Bind(2, cursor.newest->ts);
    if (s) s = (*stmt)->Bind(3, cursor.newest->value);
    if (s) s = *anchor ? (*stmt)->Bind(4, (*anchor)->ts) : (*stmt)->BindNull(4);
    if (s) s = (*stmt)->Run();
    if (!s) return s;
  }
  if (!advanced) return core::Ok();
  auto prune = db.Cached(
      "DELETE FROM agg_window WHERE ts < (SELECT max(anchor_ts) FROM agg_newest) AND "
      "ts < (SELECT anchor_ts FROM agg_newest n WHERE n.series_id = agg_window.series_id)");
  if (!prune) return prune.error();
  return (*prune)->Run();
}

// The local day of a ts, remembering the last day's bounds: readings of one fold nearly all
// fall on one or two days, and a zone lookup costs more than two comparisons.
class DayCache {
 public:
  explicit DayCache(const TimeZone& zone) : zone_(zone) {}
  std::int64_t DayOf(core::TimeUs ts) {
    if (ts < start_ || ts >= end_) {
      day_ = zone_.LocalDay(ts);
      start_ = zone_.DayStart(day_);
      end_ = zone_.DayEnd(day_);
    }
    return day_;
  }

 private:
  const TimeZone& zone_;
  std::int64_t day_ = 0;
  core::TimeUs start_ = 0;
  core::TimeUs end_ = 0;
};

}  // namespace

core::Expected<const core::MetricSpec*> AggregateStore::SpecOfSeries(std::int64_t series_id) {
  auto it = series_metric_.find(series_id);
  if (it == series_metric_.end()) {
    auto find = db_->Cached("SELECT metric FROM series WHERE id = ?1");
    if (!find) return find.error();
    if (auto s = (*find)->Bind(1, series_id); !s) return s.error();
    auto row = (*find)->Step();
    if (!row) return row.error();
    if (!*row) {
      return core::MakeError(core::Errc::kInternal,
                             "no series row " + std::to_string(series_id) + " while aggregating");
    }
    it = series_metric_.emplace(series_id, (*find)->ColumnText(0)).first;
  }
  return &SpecOf(it->second);
}

core::Expected<ApplyCounts> AggregateStore::Apply(const std::vector<core::Reading>& readings) {
  std::vector<SeriesPoint> points;
  points.reserve(readings.size());
  for (const core::Reading& r : readings) {
    auto find = db_->Cached("SELECT id FROM series WHERE device = ?1 AND metric = ?2");
    if (!find) return find.error();
    if (auto s = (*find)->Bind(1, r.device); !s) return s.error();
    if (auto s = (*find)->Bind(2, r.metric); !s) return s.error();
    auto row = (*find)->Step();
    if (!row) return row.error();
    if (!*row) {
      return core::MakeError(core::Errc::kInternal, "no series row for " + r.device + "/" +
                                                        r.metric + " while aggregating");
    }
    points.push_back(SeriesPoint{(*find)->ColumnInt64(0), r.ts, r.value});
  }
  return ApplyPoints(points);
}

core::Expected<ApplyCounts> AggregateStore::ApplyPoints(const std::vector<SeriesPoint>& points) {
  ApplyCounts counts;
  const core::TimeUs window_us = options_.late_window_s * core::kMicrosPerSecond;
  // Work is gathered per series and per bucket and written once per call: a fold of many
  // readings then costs one upsert per touched bucket, not one per reading.
  std::unordered_map<std::int64_t, SeriesCursor> cursors;
  std::map<std::pair<std::int64_t, core::TimeUs>, BucketStats> hours;
  std::map<std::pair<std::int64_t, std::int64_t>, BucketStats> days;
  DayCache day_of(zone_);

  for (const SeriesPoint& r : points) {
    auto it = cursors.find(r.series_id);
    if (it == cursors.end()) {
      SeriesCursor cursor;
      auto spec = SpecOfSeries(r.series_id);
      if (!spec) return spec.error();
      cursor.spec = *spec;
      auto newest = NewestInWindow(*db_, r.series_id);
      if (!newest) return newest.error();
      cursor.newest = *newest;
      it = cursors.emplace(r.series_id, cursor).first;
    }
    SeriesCursor& cursor = it->second;
    const std::optional<core::TimeUs> newest_ts =
        cursor.newest ? std::optional<core::TimeUs>(cursor.newest->ts) : std::nullopt;
    if (IsLate(r.ts, newest_ts, window_us)) {
      ++counts.late;
      continue;
    }
    auto entered = EnterWindow(*db_, r);
    if (!entered) return entered.error();
    if (!*entered) {
      ++counts.duplicates;
      continue;
    }

    const core::MetricSpec& spec = *cursor.spec;
    BucketStats& hour = hours[{r.series_id, HourBucketStart(r.ts)}];
    BucketStats& day = days[{r.series_id, day_of.DayOf(r.ts)}];
    AddReading(hour, r.ts, r.value, spec);
    AddReading(day, r.ts, r.value, spec);
    const bool in_order = !cursor.newest || r.ts > cursor.newest->ts;
    if (spec.kind == core::MetricKind::kCounter) {
      // In order, the predecessor is the newest reading and there is no successor.
      std::optional<CounterPoint> prev = cursor.newest, next;
      if (!in_order) {
        auto p = Neighbour(*db_, r.series_id, r.ts, true);
        if (!p) return p.error();
        auto n = Neighbour(*db_, r.series_id, r.ts, false);
        if (!n) return n.error();
        prev = *p;
        next = *n;
      }
      InsertionDeltas d = DeltasOfInsertion(prev, CounterPoint{r.ts, r.value}, next, spec.jitter);
      AddDelta(hour, d.own.delta);
      AddDelta(day, d.own.delta);
      if (d.next && d.next->delta != 0.0) {
        // The next reading's buckets exist (it was aggregated before) or are in this call.
        AddDelta(hours[{r.series_id, HourBucketStart(d.next->ts)}], d.next->delta);
        AddDelta(days[{r.series_id, day_of.DayOf(d.next->ts)}], d.next->delta);
      }
    }
    if (in_order) {
      cursor.newest = CounterPoint{r.ts, r.value};
      cursor.advanced = true;
    }
    ++counts.aggregated;
  }

  for (const auto& [key, stats] : hours) {
    auto stmt = db_->Cached(kFoldHourly);
    if (!stmt) return stmt.error();
    if (auto s = (*stmt)->Bind(1, key.first); !s) return s.error();
    if (auto s = (*stmt)->Bind(2, key.second); !s) return s.error();
    if (auto s = BindStats(**stmt, 3, stats); !s) return s.error();
    if (auto s = (*stmt)->Run(); !s) return Context(s.error(), "updating an hourly bucket");
  }
  for (const auto& [key, stats] : days) {
    auto stmt = db_->Cached(kFoldDaily);
    if (!stmt) return stmt.error();
    if (auto s = (*stmt)->Bind(1, key.first); !s) return s.error();
    if (auto s = (*stmt)->Bind(2, key.second); !s) return s.error();
    if (auto s = BindStats(**stmt, 3, stats); !s) return s.error();
    if (auto s = (*stmt)->Bind(12, zone_.name()); !s) return s.error();
    if (auto s = (*stmt)->Bind(13, zone_.DayStart(key.second)); !s) return s.error();
    if (auto s = (*stmt)->Bind(14, zone_.DayEnd(key.second)); !s) return s.error();
    if (auto s = (*stmt)->Run(); !s) return Context(s.error(), "updating a daily bucket");
  }
  if (auto s = Prune(*db_, cursors, window_us); !s) return s.error();
  for (const auto& [series_id, cursor] : cursors) {
    if (!cursor.advanced) continue;
    std::optional<core::TimeUs>& top = window_top_[series_id];
    if (!top || *top < cursor.newest->ts) top = cursor.newest->ts;
  }
  if (counts.late > 0) {
    auto late = db_->Cached("UPDATE counters SET n = n + ?1 WHERE name = 'late'");
    if (!late) return late.error();
    if (auto s = (*late)->Bind(1, counts.late); !s) return s.error();
    if (auto s = (*late)->Run(); !s) return s.error();
  }
  return counts;
}

core::Expected<std::optional<core::TimeUs>> AggregateStore::WindowTop(std::int64_t series_id) {
  auto it = window_top_.find(series_id);
  if (it == window_top_.end()) {
    auto newest = NewestInWindow(*db_, series_id);
    if (!newest) return newest.error();
    std::optional<core::TimeUs> top;
    if (*newest) top = (*newest)->ts;
    it = window_top_.emplace(series_id, top).first;
  }
  return it->second;
}

core::Expected<bool> AggregateStore::InLateWindow(std::int64_t series_id, core::TimeUs ts) {
  auto top = WindowTop(series_id);
  if (!top) return top.error();
  if (!*top || ts > **top) return false;
  // The newest ts is read only when the exact key is there: readings below the top are mostly
  // new too and stop at the first lookup.
  auto stmt = db_->Cached(
      "SELECT ?2 >= (SELECT ts FROM agg_newest WHERE series_id = ?1) - ?3 "
      "FROM agg_window WHERE ts = ?2 AND series_id = ?1");
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, series_id); !s) return s.error();
  if (auto s = (*stmt)->Bind(2, ts); !s) return s.error();
  if (auto s = (*stmt)->Bind(3, options_.late_window_s * core::kMicrosPerSecond); !s) {
    return s.error();
  }
  auto row = (*stmt)->Step();
  if (!row) return row.error().Wrap("look up the late window");
  return *row && (*stmt)->ColumnInt64(0) != 0;
}

}  // namespace fieldsync::store
