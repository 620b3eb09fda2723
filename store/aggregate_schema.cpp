#include "store/aggregate_schema.hpp"

namespace fieldsync::store {
namespace {

// Statistics columns shared by both bucket tables; min/max/sum are suffixed to keep them apart
// from SQL's functions of the same names.
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
