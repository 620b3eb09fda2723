#include "store/aggregate_store.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "store/aggregate_rows.hpp"
#include "store/aggregate_schema.hpp"
#include "store/aggregate_series.hpp"
#include "store/counter_delta.hpp"
#include "store/schema.hpp"

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

// One series as seen by one ApplyPoints call. Invariant: `newest` is the series' newest
// late-window reading (the window's reference), including the readings this call folded.
struct SeriesCursor {
  const core::MetricSpec* spec = nullptr;
  std::optional<CounterPoint> newest;
  bool known = false;                  // the series had an agg_newest row before this call
  std::optional<core::TimeUs> anchor;  // its anchor_ts then
  core::TimeUs oldest = INT64_MAX;     // the oldest reading this call folded into the window
  bool advanced = false;               // newest moved: the anchor moves and the window is pruned
};

core::Status LoadNewest(Database& db, std::int64_t series, SeriesCursor& cursor) {
  auto newest = db.Cached("SELECT ts, value, anchor_ts FROM agg_newest WHERE series_id = ?1");
  if (!newest) return newest.error();
  if (auto s = (*newest)->Bind(1, series); !s) return s;
  auto has = (*newest)->Step();
  if (!has) return has.error();
  if (!*has) return core::Ok();
  cursor.known = true;
  cursor.newest = CounterPoint{(*newest)->ColumnInt64(0), (*newest)->ColumnDouble(1)};
  if (!(*newest)->ColumnIsNull(2)) cursor.anchor = (*newest)->ColumnInt64(2);
  return core::Ok();
}

// The late-window reading of `series` just before (or after) `ts`: a key with aside 0 whose
// reading left the outbox or was folded before the one being folded (reading id below
// `folded_below`). A scan from ts over the keys of every series, which ends at the series'
// anchor going back, at `until` going forward: the neighbours of an out-of-order reading are
// near it (and only out-of-order counter readings ask).
core::Expected<std::optional<CounterPoint>> Neighbour(Database& db, std::int64_t series,
                                                      core::TimeUs ts, bool before,
                                                      std::int64_t folded_below,
                                                      core::TimeUs until = INT64_MAX) {
  auto stmt = db.Cached(
      before ? "SELECT ts, value FROM reading_keys WHERE ts < ?2 AND series_id = ?1 AND "
               "aside = 0 AND (reading_id IS NULL OR reading_id < ?3) ORDER BY ts DESC LIMIT 1"
             : "SELECT ts, value FROM reading_keys WHERE ts > ?2 AND ts <= ?4 AND series_id = ?1 "
               "AND aside = 0 AND (reading_id IS NULL OR reading_id < ?3) ORDER BY ts LIMIT 1");
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, series); !s) return s.error();
  if (auto s = (*stmt)->Bind(2, ts); !s) return s.error();
  if (auto s = (*stmt)->Bind(3, folded_below); !s) return s.error();
  if (!before) {
    if (auto s = (*stmt)->Bind(4, until); !s) return s.error();
  }
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<CounterPoint>();
  return std::optional<CounterPoint>(
      CounterPoint{(*stmt)->ColumnInt64(0), (*stmt)->ColumnDouble(1)});
}

// Sets the aside mark of a reading's key: 0 once it is a late-window reading, 2 when it is not
// (late). Only readings that are late or released from hold need it: a key starts at 0.
core::Status SetAside(Database& db, const SeriesPoint& p, std::int64_t aside) {
  return db.Run("UPDATE reading_keys SET aside = ?3 WHERE ts = ?2 AND series_id = ?1",
                {p.series_id, p.ts, aside});
}

// Records the newest reading of each series that advanced and its anchor (the last window
// reading before newest - window), then deletes the kept keys (of readings that left the
// outbox) that the anchors moved past: the window keeps the cutoff on, plus the anchor; keys
// below an anchor are never anyone's neighbour. Kept keys of a series lie at or above its
// anchor (Removed keeps no other), so the delete walks the keys between the lowest old anchor
// and the highest new one.
core::Status Prune(Database& db, const std::unordered_map<std::int64_t, SeriesCursor>& cursors,
                   core::TimeUs window_us, std::int64_t folded_below) {
  std::optional<core::TimeUs> lo, hi;
  for (const auto& [series_id, cursor] : cursors) {
    if (!cursor.advanced) continue;
    auto anchor =
        Neighbour(db, series_id, cursor.newest->ts - window_us, /*before=*/true, folded_below);
    if (!anchor) return anchor.error();
    std::optional<core::TimeUs> anchor_ts = cursor.anchor;
    if (*anchor) {
      anchor_ts = (*anchor)->ts;
    } else if (!cursor.known) {
      anchor_ts = cursor.oldest;  // a new series: nothing of it lies below its oldest reading
    }
    if (cursor.known) {
      // No anchor yet (a store upgraded before anchors were kept): its keys may lie anywhere.
      const core::TimeUs from = cursor.anchor.value_or(INT64_MIN);
      if (!lo || from < *lo) lo = from;
    }
    if (anchor_ts && (!hi || *anchor_ts > *hi)) hi = *anchor_ts;
    auto stmt = db.Cached(
        "INSERT INTO agg_newest(series_id, ts, value, anchor_ts) VALUES(?1, ?2, ?3, ?4) "
        "ON CONFLICT(series_id) DO UPDATE SET ts = excluded.ts, value = excluded.value, "
        "anchor_ts = excluded.anchor_ts");
    if (!stmt) return stmt.error();
    core::Status s = (*stmt)->Bind(1, series_id);
    if (s) s = (*stmt)->Bind(2, cursor.newest->ts);
    if (s) s = (*stmt)->Bind(3, cursor.newest->value);
    if (s) s = anchor_ts ? (*stmt)->Bind(4, *anchor_ts) : (*stmt)->BindNull(4);
    if (s) s = (*stmt)->Run();
    if (!s) return s;
  }
  if (!lo || !hi || *lo >= *hi) return core::Ok();
  auto prune = db.Cached(std::string("DELETE FROM reading_keys WHERE ts >= ?1 AND ts < ?2 AND "
                                     "ts < (SELECT anchor_ts FROM agg_newest n WHERE n.series_id = "
                                     "reading_keys.series_id) AND NOT ") +
                         kKeyIsPending);
  if (!prune) return prune.error();
  if (auto s = (*prune)->Bind(1, *lo); !s) return s;
  if (auto s = (*prune)->Bind(2, *hi); !s) return s;
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
  auto through = db_->QueryInt64("SELECT through FROM agg_fold WHERE id = 0");
  if (!through) return through.error();
  // Every reading up to agg_fold is folded; these are not (their keys are aside until now).
  const std::int64_t folded_below = through->value_or(0) + 1;
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
    points.push_back(SeriesPoint{(*find)->ColumnInt64(0), r.ts, r.value, folded_below, true});
  }
  return ApplyPoints(points, folded_below);
}

core::Expected<ApplyCounts> AggregateStore::ApplyPoints(const std::vector<SeriesPoint>& points,
                                                        std::int64_t folded_below) {
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
      if (auto s = LoadNewest(*db_, r.series_id, cursor); !s) return s.error();
      it = cursors.emplace(r.series_id, cursor).first;
    }
    SeriesCursor& cursor = it->second;
    const std::optional<core::TimeUs> newest_ts =
        cursor.newest ? std::optional<core::TimeUs>(cursor.newest->ts) : std::nullopt;
    if (IsLate(r.ts, newest_ts, window_us)) {
      // Its key stays (the reading is pending) but is no late-window reading.
      if (!r.released) {
        if (auto s = SetAside(*db_, r, kKeyAside); !s) return s.error();
      }
      ++counts.late;
      continue;
    }
    if (r.released) {
      if (auto s = SetAside(*db_, r, kKeyInWindow); !s) return s.error();
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
        auto p = Neighbour(*db_, r.series_id, r.ts, true, r.folded_below);
        if (!p) return p.error();
        auto n = Neighbour(*db_, r.series_id, r.ts, false, r.folded_below, cursor.newest->ts);
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
    cursor.oldest = std::min(cursor.oldest, r.ts);
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
  if (auto s = Prune(*db_, cursors, window_us, folded_below); !s) return s.error();
  if (counts.late > 0) {
    auto late = db_->Cached("UPDATE counters SET n = n + ?1 WHERE name = 'late'");
    if (!late) return late.error();
    if (auto s = (*late)->Bind(1, counts.late); !s) return s.error();
    if (auto s = (*late)->Run(); !s) return s.error();
  }
  return counts;
}

}  // namespace fieldsync::store
