#include "store/aggregate_schema.hpp"

namespace fieldsync::store {
namespace {

// Statistics columns shared by both bucket tables; min/max/sum are suffixed to keep them apart
// from SQL's functions of the same names.
//
// agg_fold: the id of the last reading folded into the buckets (AggregateStore's batched
// folding). A store made before folding was batched aggregated every reading at its commit, so
// the row starts at the newest id. The guard makes "every reading above it is still in the
// outbox" hold whatever deletes: a path that forgot to settle fails instead of losing a
// reading's contribution to its buckets. Held readings (ts_source 3) are not aggregated yet.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS agg_state(
  series_id       INTEGER PRIMARY KEY,
  removed_through INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS agg_window(
  series_id INTEGER NOT NULL,
  ts        INTEGER NOT NULL,
  value     REAL NOT NULL,
  PRIMARY KEY(series_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agg_hourly(
  series_id INTEGER NOT NULL,
  bucket    INTEGER NOT NULL,
  n INTEGER NOT NULL, sum_v REAL NOT NULL, min_v REAL NOT NULL, max_v REAL NOT NULL,
  last_v REAL NOT NULL, last_ts INTEGER NOT NULL, delta REAL,
  optimal_n INTEGER, critical_n INTEGER,
  version INTEGER NOT NULL DEFAULT 1, uploaded_version INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(series_id, bucket)
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
  PRIMARY KEY(series_id, day)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS agg_daily_pending ON agg_daily(day)
  WHERE version > uploaded_version;
CREATE TABLE IF NOT EXISTS agg_removed(
  series_id INTEGER NOT NULL,
  quarter   INTEGER NOT NULL,
  n         INTEGER NOT NULL,
  PRIMARY KEY(series_id, quarter)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agg_fold(
  id      INTEGER PRIMARY KEY CHECK (id = 0),
  through INTEGER NOT NULL
);
INSERT OR IGNORE INTO agg_fold(id, through) SELECT 0, coalesce(max(id), 0) FROM readings;
CREATE TRIGGER IF NOT EXISTS agg_unfolded_guard BEFORE DELETE ON readings
  WHEN OLD.ts_source <> 3 AND OLD.id > (SELECT through FROM agg_fold WHERE id = 0)
BEGIN
  SELECT RAISE(ABORT, 'a reading would leave the store before it is aggregated');
END;
CREATE TRIGGER IF NOT EXISTS agg_count_removed AFTER DELETE ON readings BEGIN
  INSERT INTO agg_removed(series_id, quarter, n) VALUES (OLD.series_id, OLD.ts / 900000000, 1)
    ON CONFLICT(series_id, quarter) DO UPDATE SET n = n + 1;
END;
)sql";

}  // namespace

core::Status EnsureAggregateSchema(Database& db) {
  core::Status s = db.Exec(kSchema);
  if (!s) return s.error().Wrap("creating the aggregate tables");
  return core::Ok();
}

}  // namespace fieldsync::store
