// `fieldsync backfill` against the real PostgreSQL of $FIELDSYNC_TEST_PGURL (skipped without it):
// the rewritten buckets reach the remote in a bucket-only pass, no raw reading is sent, and
// nothing is left pending among the buckets.
#include <string>

#include "tests/agent/maintenance/maintenance_fixture.hpp"
#include "tests/sync/pg_test_schema.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::testing::At;
using fieldsync::testing::CommandOutput;
using fieldsync::testing::JsonOf;
using fieldsync::testing::MaintenanceGateway;
using fieldsync::testing::PgTestSchema;
using fieldsync::testing::Point;
using fieldsync::testing::Regular;
using fieldsync::testing::TestPgUrl;

namespace {

std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

long RemoteValue(const PgTestSchema& db, const std::string& sql) {
  auto r = db.Exec(sql);
  return std::stol(std::string(r.Value(0, 0)));
}

}  // namespace

TEST_GROUP(CliMaintenancePg){};

TEST(CliMaintenancePg, BackfillUploadsTheChangedBucketsAndNoReadings) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  MaintenanceGateway gw("UTC",
                        "[sync]\nurl = " + Quoted(*url) + "\nschema = \"" + db.name() + "\"\n");
  CommandOutput migrated = gw.Run("remote migrate");
  LONGS_EQUAL_TEXT(0, migrated.exit_code, migrated.err.c_str());
  gw.Ingest(Regular(At("2026-11-20T00:00:00Z"), 10 * 60 * fieldsync::core::kMicrosPerSecond, 72));
  gw.Ingest({Point{At("2026-11-20T01:05:00Z"), 90.0}});  // late: raw only

  CommandOutput r = gw.Run("backfill --from 2026-11-20 --to 2026-11-20 --json");
  LONGS_EQUAL_TEXT(0, r.exit_code, (r.out + r.err).c_str());
  nlohmann::json report = JsonOf(r);
  STRCMP_EQUAL("done", report["upload"]["status"].get<std::string>().c_str());
  LONGS_EQUAL(12, report["upload"]["hourly"].get<long>());
  LONGS_EQUAL(1, report["upload"]["daily"].get<long>());
  LONGS_EQUAL(0, report["upload"]["pending"].get<long>());

  const std::string s = "\"" + db.name() + "\"";
  // The late reading is in its hour and day at the remote: 7 readings in 01:00-02:00, 73 a day.
  LONGS_EQUAL(
      7, RemoteValue(db, "SELECT n FROM " + s + ".hourly WHERE bucket = '2026-11-20T01:00:00Z'"));
  LONGS_EQUAL(73, RemoteValue(db, "SELECT n FROM " + s + ".daily WHERE day = '2026-11-20'"));
  LONGS_EQUAL(0, RemoteValue(db, "SELECT count(*) FROM " + s + ".readings"));
  nlohmann::json status = JsonOf(gw.Run("status --json"));
  LONGS_EQUAL(73, status["pending"]["readings"].get<long>());
  LONGS_EQUAL(0, status["pending"]["aggregates"].get<long>());
}
