#include "store/schema.hpp"

#include <array>

namespace fieldsync::store {
namespace {

// Version 1.
// - series interns (device, metric) so that a reading row carries a small integer instead of
//   two strings: less to write per reading, which matters on SD cards and eMMC.
// - readings is the outbox: a row is pending until DeleteUploaded removes it. id is the rowid,
//   so id order is insertion order and "oldest pending" needs no extra index. The dedupe key was
//   an index on it ((series_id, ts), time-first since version 5) until version 6 made it a table.
//   received_offset is received_at - ts: 0 (stored in no bytes at all) for readings the agent
//   stamped, a few bytes for device times, where a full timestamp would take 8.
// - counters are kept in the store so that status after a restart still shows every loss.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE series(
  id     INTEGER PRIMARY KEY,
  device TEXT NOT NULL,
  metric TEXT NOT NULL,
  UNIQUE(device, metric)
);
CREATE TABLE readings(
  id          INTEGER PRIMARY KEY,
  series_id   INTEGER NOT NULL,
  ts          INTEGER NOT NULL,
  value       REAL NOT NULL,
  ts_source   INTEGER NOT NULL,
  received_offset INTEGER NOT NULL
);
CREATE UNIQUE INDEX readings_key ON readings(series_id, ts);
CREATE TABLE input_counters(
  input          TEXT PRIMARY KEY,
  frames         INTEGER NOT NULL DEFAULT 0,
  readings       INTEGER NOT NULL DEFAULT 0,
  duplicates     INTEGER NOT NULL DEFAULT 0,
  frames_lost    INTEGER NOT NULL DEFAULT 0,
  fields_ignored INTEGER NOT NULL DEFAULT 0,
  last_frame_at  INTEGER
) WITHOUT ROWID;
CREATE TABLE input_rejections(
  input  TEXT NOT NULL,
  reason TEXT NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY(input, reason)
) WITHOUT ROWID;
CREATE TABLE counters(
  name TEXT PRIMARY KEY,
  n    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters(name, n) VALUES
  ('dropped', 0), ('late', 0), ('quarantined', 0), ('clock_unsynced', 0);
)sql";

// Version 2: the quarantine (§5 "Errors"): rows the remote refused for their data, moved out
// of the outbox with the server's message and SQLSTATE. AUTOINCREMENT so that an id shown by
// `quarantine list` never names another row later, even after a purge. The `quarantined` count
// is the table's row count from now on, so its counter row goes.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE quarantine(
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  series_id      INTEGER NOT NULL,
  ts             INTEGER NOT NULL,
  value          REAL NOT NULL,
  ts_source      INTEGER NOT NULL,
  received_at    INTEGER NOT NULL,
  reason         TEXT NOT NULL,
  sqlstate       TEXT NOT NULL,
  quarantined_at INTEGER NOT NULL
);
DELETE FROM counters WHERE name = 'quarantined';
)sql";

// Version 3: clock trust (§10). A reading the agent stamped while the clock was not synchronised
// is held: it stays in `readings` (so the budget and drop_oldest see it) with the stored
// ts_source 3, which OldestPending and the aggregates skip, and its boot-relative time is kept
// in held_readings until it is re-stamped or released. A side table rather than columns on
// `readings`: rows that are never held (nearly all) cost not one byte more. Boot ids are
// interned in clock_boots, so a held reading carries a small integer instead of a 36-byte UUID.
// The trigger keeps held_readings exact when a held row leaves by any other way (drop_oldest).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE clock_boots(
  id      INTEGER PRIMARY KEY,
  boot_id TEXT NOT NULL UNIQUE
);
CREATE TABLE held_readings(
  reading_id INTEGER PRIMARY KEY,
  boot       INTEGER NOT NULL,
  boot_us    INTEGER NOT NULL
);
CREATE TRIGGER readings_held_gone AFTER DELETE ON readings WHEN old.ts_source = 3
BEGIN
  DELETE FROM held_readings WHERE reading_id = old.id;
END;
)sql";

// Version 4: the seq window of each (input, device), so that a frame resent after a restart is
// still recognised as a duplicate (store/seq_window.hpp). Indexed for the per-stream trim.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE seq_log(
  id     INTEGER PRIMARY KEY,
  input  TEXT NOT NULL,
  device TEXT NOT NULL,
  seq    INTEGER NOT NULL
);
CREATE INDEX seq_log_stream ON seq_log(input, device, id);
)sql";

// Version 5: the dedupe key time-first. Keyed (series_id, ts), every commit of readings from many
// series touched one index leaf per series (a commit of 105 readings from 70 series wrote some
// 20 pages: most of the flash wear of ingest); keyed (ts, series_id), readings arriving in time
// order land on the last leaf or two, and deletes after upload take the first ones. Lookups are
// exact keys or ts ranges either way.
constexpr const char* kSchemaV5 = R"sql(
DROP INDEX readings_key;
CREATE UNIQUE INDEX readings_key ON readings(ts, series_id);
)sql";

// Version 6: one key table for every (series, ts) the store knows. reading_keys holds the key and
// value of every pending reading (reading_id) and, once the aggregates keep them, of readings
// that left the outbox but are still inside their series' late window (reading_id NULL). It is
// the dedupe key, the late window and the time order in one: before, a reading's key was written
// twice (the readings_key index at ingest, the aggregates' agg_window at the fold). WITHOUT
// ROWID, time-first: a commit appends at the right edge.
//   aside: 0 a reading of the late window (once folded: reading_id at or below agg_fold);
//          1 held (clock trust, §10: its ts is provisional);
//          2 not in the late window: released from hold and not folded yet, or late.
// A reading's key is inserted with it, first (the two inserts of ingest and of a quarantine
// retry: a taken key is a duplicate); the triggers keep it exact on every other path (a
// re-stamp, drop_oldest, upload): a key follows its reading's ts, and leaves with its reading
// unless the aggregates keep it (aggregate_schema.cpp replaces readings_key_gone). Triggers on
// insert would do the same at every ingest for more CPU (1.49 s against 1.28 s for 280,000
// readings through fieldsync_ingest_bench, measured once on x86-64). The old index goes first:
// its pages are reused by the keys in the same transaction, so that a store with a long backlog
// on a nearly full disk grows by the difference only (about 10 bytes per pending reading), and
// readings come in id order, nearly time order, which fills the key's leaves in sequence.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE reading_keys(
  ts         INTEGER NOT NULL,
  series_id  INTEGER NOT NULL,
  value      REAL NOT NULL,
  reading_id INTEGER,
  aside      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(ts, series_id)
) WITHOUT ROWID;
DROP INDEX readings_key;
INSERT INTO reading_keys(ts, series_id, value, reading_id, aside)
  SELECT ts, series_id, value, id, ts_source = 3 FROM readings;
CREATE TRIGGER readings_key_moved AFTER UPDATE OF ts, ts_source ON readings
BEGIN
  DELETE FROM reading_keys WHERE ts = OLD.ts AND series_id = OLD.series_id;
  INSERT INTO reading_keys(ts, series_id, value, reading_id, aside)
    VALUES(NEW.ts, NEW.series_id, NEW.value, NEW.id, CASE WHEN NEW.ts_source = 3 THEN 1 ELSE 2 END);
END;
CREATE TRIGGER readings_key_gone AFTER DELETE ON readings
BEGIN
  DELETE FROM reading_keys WHERE ts = OLD.ts AND series_id = OLD.series_id AND reading_id = OLD.id;
END;
)sql";

// Version 7: no trigger runs when a reading leaves the outbox. The store does what the triggers
// did for the readings it removes, itself and once per removal (Store::Impl::RemoveReadings and
// ForgetRemoved): the held_readings row of a held reading goes, and the keys are deleted, but for
// those the aggregates keep for the late window, which stay exactly as they were: a kept key's
// reading_id then names a reading that is gone (kKeyIsPending tells the two apart). Before, an
// upload rewrote the key of every reading it took (reading_id set to NULL), about an eighth of the
// WAL frames of the steady state, and the triggers cost about 1 us per deleted row.
constexpr const char* kSchemaV7 = R"sql(
DROP TRIGGER IF EXISTS readings_key_gone;
DROP TRIGGER IF EXISTS readings_held_gone;
)sql";

const std::array<Migration, 7> kMigrations = {{
    {1, kSchemaV1},
    {2, kSchemaV2},
    {3, kSchemaV3},
    {4, kSchemaV4},
    {5, kSchemaV5},
    {6, kSchemaV6},
    {7, kSchemaV7},
}};

}  // namespace

std::span<const Migration> StoreMigrations() { return kMigrations; }

core::Expected<std::int64_t> SchemaVersion(Database& db) {
  core::Expected<std::optional<std::int64_t>> version = db.QueryInt64("PRAGMA user_version");
  if (!version) return version.error();
  return version->value_or(0);
}

core::Status MigrateSchema(Database& db, std::span<const Migration> migrations) {
  core::Expected<std::int64_t> current = SchemaVersion(db);
  if (!current) return current.error().Wrap("read schema version of " + db.path());
  std::int64_t latest = migrations.empty() ? 0 : migrations.back().version;
  if (*current > latest) {
    return core::MakeError(
        core::Errc::kUnsupported,
        "store " + db.path() + " has schema version " + std::to_string(*current) +
            ", newer than the version " + std::to_string(latest) +
            " this fieldsync supports; upgrade fieldsync or move the store away");
  }
  for (const Migration& step : migrations) {
    if (step.version <= *current) continue;
    core::Expected<Transaction> txn = Transaction::Begin(db);
    if (!txn) return txn.error().Wrap("migrate store to version " + std::to_string(step.version));
    // user_version cannot be bound as a parameter; the value is an integer we formatted.
    core::Status status =
        db.Exec(step.sql + ";\nPRAGMA user_version = " + std::to_string(step.version) + ";");
    if (status) status = txn->Commit();
    if (!status) {
      return status.error().Wrap("migrate store " + db.path() + " to version " +
                                 std::to_string(step.version));
    }
  }
  return core::Ok();
}

}  // namespace fieldsync::store
