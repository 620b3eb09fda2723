#include "store/schema.hpp"

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::Errc;
using fieldsync::testing::TempDir;
using namespace fieldsync::store;

namespace {

std::unique_ptr<Database> OpenFile(const std::string& path) {
  auto db = Database::Open(path);
  CHECK_TRUE(db.has_value());
  return std::move(*db);
}

// A store as the code of schema `version` left it, with two series and the readings `rows`
// (values of readings(id, series_id, ts, value, ts_source, received_offset)).
std::unique_ptr<Database> StoreAtVersion(const std::string& path, std::size_t version,
                                         const std::string& rows) {
  auto db = OpenFile(path);
  CHECK_TRUE(MigrateSchema(*db, StoreMigrations().first(version)));
  CHECK_TRUE(
      db->Exec("INSERT INTO series(id, device, metric) VALUES(1, 'd', 't'), (2, 'd', 'h');"
               "INSERT INTO readings(id, series_id, ts, value, ts_source, received_offset) VALUES" +
               rows));
  return db;
}

bool TableExists(Database& db, const std::string& name) {
  auto stmt = db.Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1");
  CHECK_TRUE(stmt.has_value());
  CHECK_TRUE(stmt->Bind(1, std::string_view(name)));
  auto row = stmt->Step();
  CHECK_TRUE(row.has_value() && *row);
  return stmt->ColumnInt64(0) == 1;
}

}  // namespace

TEST_GROUP(Schema){};

TEST(Schema, FreshStoreIsAtTheLatestVersion) {
  TempDir dir;
  fieldsync::core::FakeClock clock;
  {
    auto store = Store::Open(dir.path(), StoreOptions{}, clock);
    CHECK_TRUE(store.has_value());
  }
  auto db = OpenFile(dir.File("fieldsync.db"));
  auto version = SchemaVersion(*db);
  CHECK_TRUE(version.has_value());
  LONGS_EQUAL(kSchemaVersion, *version);
  LONGS_EQUAL(kSchemaVersion, StoreMigrations().back().version);
  for (const char* table : {"meta", "series", "readings", "input_counters", "counters"}) {
    CHECK_TEXT(TableExists(*db, table), table);
  }
  auto mode = db->QueryText("PRAGMA journal_mode");
  CHECK_TRUE(mode.has_value());
  STRCMP_EQUAL("wal", mode->value_or("").c_str());
}

TEST(Schema, MigratesStepByStepFromAnOlderVersion) {
  TempDir dir;
  auto db = OpenFile(dir.File("x.db"));
  std::vector<Migration> steps = {{1, "CREATE TABLE a(x INTEGER)"},
                                  {2, "CREATE TABLE b(y INTEGER)"},
                                  {3, "ALTER TABLE a ADD COLUMN z TEXT"}};
  CHECK_TRUE(MigrateSchema(*db, std::span<const Migration>(steps.data(), 1)));
  LONGS_EQUAL(1, *SchemaVersion(*db));
  CHECK_FALSE(TableExists(*db, "b"));
  CHECK_TRUE(MigrateSchema(*db, steps));
  LONGS_EQUAL(3, *SchemaVersion(*db));
  CHECK_TRUE(TableExists(*db, "b"));
  CHECK_TRUE(db->Exec("INSERT INTO a(x, z) VALUES(1, 'ok')"));
  // Running again is a no-op: every step is at or below the stored version.
  CHECK_TRUE(MigrateSchema(*db, steps));
  LONGS_EQUAL(3, *SchemaVersion(*db));
}

TEST(Schema, VersionFiveKeysReadingsTimeFirstAndKeepsThem) {
  TempDir dir;
  auto db = StoreAtVersion(dir.File("x.db"), 4,
                           "(1, 1, 10, 1.0, 0, 0), (2, 2, 10, 2.0, 0, 0), (3, 1, 20, 3.0, 0, 0)");
  std::span<const Migration> all = StoreMigrations();
  CHECK_TRUE(MigrateSchema(*db, all.first(5)));
  LONGS_EQUAL(5, *SchemaVersion(*db));
  STRCMP_EQUAL("ts", db->QueryText("SELECT name FROM pragma_index_info('readings_key') "
                                   "WHERE seqno = 0")
                         ->value_or("")
                         .c_str());
  LONGS_EQUAL(3, db->QueryInt64("SELECT count(*) FROM readings")->value_or(0));
  // Still the dedupe key: the same series and ts cannot go in twice.
  CHECK_FALSE(db->Exec("INSERT INTO readings(series_id, ts, value, ts_source, received_offset) "
                       "VALUES(2, 10, 9.0, 0, 0)")
                  .has_value());
}

TEST(Schema, FailedStepLeavesThePreviousVersionIntact) {
  TempDir dir;
  auto db = OpenFile(dir.File("x.db"));
  std::vector<Migration> steps = {{1, "CREATE TABLE a(x INTEGER)"},
                                  {2, "CREATE TABLE b(y INTEGER); CREATE TABLE a(dup INTEGER)"}};
  auto status = MigrateSchema(*db, steps);
  CHECK_FALSE(status.has_value());
  CHECK(status.error().message.find("version 2") != std::string::npos);
  LONGS_EQUAL(1, *SchemaVersion(*db));
  CHECK_FALSE(TableExists(*db, "b"));  // half of step 2 did not survive
}

TEST(Schema, NewerStoreIsRefusedWithBothVersionsAndLeftUntouched) {
  TempDir dir;
  {
    auto db = OpenFile(dir.File("fieldsync.db"));
    CHECK_TRUE(db->Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1)));
  }
  fieldsync::core::FakeClock clock;
  auto store = Store::Open(dir.path(), StoreOptions{}, clock);
  CHECK_FALSE(store.has_value());
  CHECK(store.error().code == Errc::kUnsupported);
  const std::string& message = store.error().message;
  CHECK_TEXT(message.find("version " + std::to_string(kSchemaVersion + 1)) != std::string::npos,
             message.c_str());
  CHECK_TEXT(message.find("version " + std::to_string(kSchemaVersion)) != std::string::npos,
             message.c_str());
  auto db = OpenFile(dir.File("fieldsync.db"));
  LONGS_EQUAL(kSchemaVersion + 1, *SchemaVersion(*db));
  CHECK_FALSE(TableExists(*db, "readings"));
}

TEST(Schema, VersionSixMovesTheDedupeKeyIntoReadingKeysAndKeepsItExact) {
  TempDir dir;
  auto db = StoreAtVersion(dir.File("x.db"), 5,
                           "(1, 1, 10, 1.0, 0, 0), (2, 2, 10, 2.0, 0, 0), (3, 1, 20, 3.0, 3, 0)");
  CHECK_TRUE(MigrateSchema(*db, StoreMigrations().first(6)));
  LONGS_EQUAL(6, *SchemaVersion(*db));
  auto count = [&](const char* sql) { return db->QueryInt64(sql)->value_or(-1); };
  LONGLONGS_EQUAL(0, count("SELECT count(*) FROM sqlite_master WHERE name = 'readings_key'"));
  // Every reading's key, the held one (ts_source 3) set aside.
  LONGLONGS_EQUAL(3, count("SELECT count(*) FROM reading_keys k JOIN readings r ON "
                           "r.id = k.reading_id AND r.ts = k.ts AND r.series_id = k.series_id "
                           "AND r.value = k.value"));
  LONGLONGS_EQUAL(3, count("SELECT reading_id FROM reading_keys WHERE aside = 1"));
  // Still the dedupe key: the same series and ts cannot go in twice.
  CHECK_FALSE(db->Exec("INSERT INTO reading_keys(ts, series_id, value) VALUES(10, 2, 9.0)"));
  // A key follows its reading's ts (out of hold: aside 2, not folded yet) and leaves with it.
  CHECK_TRUE(db->Exec("UPDATE readings SET ts = 25, ts_source = 1 WHERE id = 3"));
  LONGLONGS_EQUAL(0, count("SELECT count(*) FROM reading_keys WHERE ts = 20"));
  LONGLONGS_EQUAL(2, count("SELECT aside FROM reading_keys WHERE ts = 25 AND reading_id = 3"));
  CHECK_TRUE(db->Exec("DELETE FROM readings WHERE id = 1"));
  LONGLONGS_EQUAL(2, count("SELECT count(*) FROM reading_keys"));
  LONGLONGS_EQUAL(0, count("SELECT count(*) FROM reading_keys WHERE reading_id = 1"));
}

TEST(Schema, VersionSevenLeavesTheKeysOfDeletedReadingsToTheStore) {
  TempDir dir;
  auto db = StoreAtVersion(dir.File("x.db"), 5, "(1, 1, 10, 1.0, 0, 0), (2, 2, 10, 2.0, 0, 0)");
  CHECK_TRUE(MigrateSchema(*db, StoreMigrations()));
  LONGS_EQUAL(7, *SchemaVersion(*db));
  auto count = [&](const char* sql) { return db->QueryInt64(sql)->value_or(-1); };
  LONGLONGS_EQUAL(0, count("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
                           "name = 'readings_key_gone'"));
  // A row deleted behind the store's back keeps its key, which no longer counts as pending.
  CHECK_TRUE(db->Exec("DELETE FROM readings WHERE id = 1"));
  LONGLONGS_EQUAL(2, count("SELECT count(*) FROM reading_keys"));
  LONGLONGS_EQUAL(
      1, count((std::string("SELECT count(*) FROM reading_keys WHERE ") + kKeyIsPending).c_str()));
  // A re-stamp still moves the key with its reading.
  CHECK_TRUE(db->Exec("UPDATE readings SET ts = 25 WHERE id = 2"));
  LONGLONGS_EQUAL(1, count("SELECT count(*) FROM reading_keys WHERE ts = 25 AND series_id = 2"));
}
