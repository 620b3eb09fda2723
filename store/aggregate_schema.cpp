#include "store/aggregate_schema.hpp"

#include <optional>
#include <string>
#include <utility>

namespace fieldsync::store {
namespace {

// Statistics columns shared by both bucket tables; min/max/sum are suffixed to keep them apart
// from SQL's functions of the same names.
//
// Every table that a fold writes is keyed time-first: a fold (every few seconds, and before
// each upload) touches each active series' current hour and current day, which time-first keys
// put side by side on a few pages, where series-first keys scattered them over one page per
// series and table (most of the flash wear of ingest). Per-series lookups are exact keys, or
// short backward scans over the newest rows; the newest reading of each series, which every
// fold reads, is kept in agg_newest with the window's anchor.
//
// The late window is the store's reading_keys (schema.cpp, versions 6 and 7): the keys of
// folded readings, aside 0, whether pending or kept after they left the outbox (kKeyIsPending
// tells them apart). A fold writes nothing per reading for it, and neither does an upload:
// AggregateStore::Removed leaves the key of a late-window reading at or above its series'
// anchor as it is (an upload mostly takes readings from inside the window) and deletes every
// other key, and counts the removed readings into agg_removed. Both were triggers on every
// delete from readings until store schema 7 (agg_window_kept, agg_count_removed): one rewrote
// the key of each uploaded reading. A kept key below the anchor is pruned by the fold that moves
// the anchor past it. anchor_ts is the ts below which the series has no late-window key: the
// anchor once there is one, the series' oldest folded reading before (NULL only in stores
// upgraded before it was kept).
//
// agg_fold: the id of the last reading folded into the buckets (AggregateStore's batched
// folding). A store made before folding was batched aggregated every reading at its commit, so
// the row starts at the newest id. Removed makes "every reading above it is still in the outbox"
// hold whatever deletes: a path that forgot to settle fails instead of losing a reading's
// contribution to its buckets (a trigger did it until store schema 7). Held readings
// (ts_source 3) are not aggregated yet.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS agg_state(
  series_id       INTEGER PRIMARY KEY,
  removed_through INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS agg_newest(
  series_id INTEGER PRIMARY KEY,
  ts        INTEGER NOT NULL,
  value     REAL NOT NULL,
  anchor_ts INTEGER
);
CREATE TABLE IF NOT EXISTS agg_hourly(
  series_id INTEGER NOT NULL,
  bucket    INTEGER NOT NULL,
  n INTEGER NOT NULL, sum_v REAL NOT NULL, min_v REAL NOT NULL, max_v REAL NOT NULL,
  last_v REAL NOT NULL, last_ts INTEGER NOT NULL, delta REAL,
  optimal_n INTEGER, critical_n INTEGER,
  version INTEGER NOT NULL DEFAULT 1, uploaded_version INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(bucket, series_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS agg_hourly_pending ON agg_hourly(bucket)
  WHERE version > uploaded_version;
CREATE TABLE IF NOT EXISTS agg_daily(
  series_id INTEGER NOT NULL,
  day       INTEGER NOT NULL,
  tz        TEXT NOT NULL,
  start_ts  INTEGER NOT NULL,
  end_ts    INTEGER NOT NULL,
  n INTEGER NOT NULL, sum_v REAL NOT NULL, min_v REAL NOT NULL, max_v REAL NOT NULL,
  last_v REAL NOT NULL, last_ts INTEGER NOT NULL, delta REAL,
  optimal_n INTEGER, critical_n INTEGER,
  version INTEGER NOT NULL DEFAULT 1, uploaded_version INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(day, series_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS agg_daily_pending ON agg_daily(day)
  WHERE version > uploaded_version;
CREATE TABLE IF NOT EXISTS agg_removed(
  series_id INTEGER NOT NULL,
  quarter   INTEGER NOT NULL,
  n         INTEGER NOT NULL,
  PRIMARY KEY(quarter, series_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agg_fold(
  id      INTEGER PRIMARY KEY CHECK (id = 0),
  through INTEGER NOT NULL
);
INSERT OR IGNORE INTO agg_fold(id, through) SELECT 0, coalesce(max(id), 0) FROM readings;
DROP TRIGGER IF EXISTS agg_unfolded_guard;
DROP TRIGGER IF EXISTS agg_count_removed;
DROP TRIGGER IF EXISTS readings_key_gone;
DROP TRIGGER IF EXISTS agg_window_kept;
)sql";

// The upgrade from series-first keys, around kSchema: the old tables are renamed (their
// partial indexes and the removal trigger dropped first: kSchema creates them again by name), the
// new ones created, filled, and the old ones dropped. agg_newest starts from each series' newest
// window row; its anchor is found by the next fold that advances the series.
constexpr const char* kRenameSeriesFirst = R"sql(
DROP TRIGGER IF EXISTS agg_count_removed;
DROP INDEX IF EXISTS agg_hourly_pending;
DROP INDEX IF EXISTS agg_daily_pending;
ALTER TABLE agg_hourly RENAME TO agg_hourly_series_first;
ALTER TABLE agg_daily RENAME TO agg_daily_series_first;
ALTER TABLE agg_removed RENAME TO agg_removed_series_first;
)sql";
constexpr const char* kCopySeriesFirst = R"sql(
INSERT INTO agg_newest(series_id, ts, value)
  SELECT series_id, max(ts), value FROM agg_window GROUP BY series_id;
INSERT INTO agg_hourly(series_id, bucket, n, sum_v, min_v, max_v, last_v, last_ts, delta,
    optimal_n, critical_n, version, uploaded_version)
  SELECT series_id, bucket, n, sum_v, min_v, max_v, last_v, last_ts, delta, optimal_n,
    critical_n, version, uploaded_version FROM agg_hourly_series_first;
INSERT INTO agg_daily(series_id, day, tz, start_ts, end_ts, n, sum_v, min_v, max_v, last_v,
    last_ts, delta, optimal_n, critical_n, version, uploaded_version)
  SELECT series_id, day, tz, start_ts, end_ts, n, sum_v, min_v, max_v, last_v, last_ts, delta,
    optimal_n, critical_n, version, uploaded_version FROM agg_daily_series_first;
INSERT INTO agg_removed(series_id, quarter, n)
  SELECT series_id, quarter, n FROM agg_removed_series_first;
DROP TABLE agg_hourly_series_first;
DROP TABLE agg_daily_series_first;
DROP TABLE agg_removed_series_first;
)sql";

// The upgrade from a separate late window (agg_window, either key order) into reading_keys
// (store schema version 6), after kSchema: its rows of readings that left the outbox become
// kept keys; folded pending readings that it does not hold were late, and are set aside.
constexpr const char* kMergeWindow = R"sql(
INSERT OR IGNORE INTO reading_keys(ts, series_id, value, reading_id, aside)
  SELECT ts, series_id, value, NULL, 0 FROM agg_window ORDER BY ts, series_id;
UPDATE reading_keys SET aside = 2
  WHERE aside = 0 AND reading_id <= (SELECT through FROM agg_fold WHERE id = 0)
    AND NOT EXISTS (SELECT 1 FROM agg_window w
                    WHERE w.ts = reading_keys.ts AND w.series_id = reading_keys.series_id);
DROP TABLE agg_window;
)sql";

}  // namespace

core::Status EnsureAggregateSchema(Database& db) {
  auto has_window = db.QueryInt64(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'agg_window'");
  if (!has_window) return has_window.error().Wrap("reading the aggregate tables' layout");
  if (has_window->value_or(0) == 0) {
    core::Status s = db.Exec(kSchema);
    if (!s) return s.error().Wrap("creating the aggregate tables");
    return core::Ok();
  }
  // A store written before schema version 6 keeps its late window apart; one written before
  // the time-first keys has it keyed (series_id, ts): pk = 1 marks series_id as the first key
  // column, and its bucket tables are series-first too.
  auto series_first = db.QueryInt64(
      "SELECT count(*) FROM pragma_table_info('agg_window') WHERE name = 'series_id' AND pk = 1");
  if (!series_first) return series_first.error().Wrap("reading the aggregate tables' layout");
  std::optional<Transaction> txn;
  if (db.autocommit()) {
    auto begun = Transaction::Begin(db);
    if (!begun) return begun.error().Wrap("upgrading the aggregate tables");
    txn.emplace(std::move(*begun));
  }
  const std::string sql = series_first->value_or(0) > 0
                              ? kRenameSeriesFirst + std::string(kSchema) + kCopySeriesFirst
                              : std::string(kSchema);
  core::Status s = db.Exec(sql + kMergeWindow);
  if (s && txn) s = txn->Commit();
  if (!s) return s.error().Wrap("upgrading the aggregate tables");
  return core::Ok();
}

}  // namespace fieldsync::store
