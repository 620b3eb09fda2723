// A batch holding rows the server refuses for their data, end to end with the built binary and a
// real PostgreSQL: `sync` lands the good rows and parks the refused ones in the quarantine;
// after the remote is fixed, `quarantine retry --all` and `sync` land them too.
#include <string>

#include "tests/agent/quarantine/quarantine_fixture.hpp"
#include "tests/sync/pg_test_schema.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::testing::CommandOutput;
using fieldsync::testing::Frame;
using fieldsync::testing::Gateway;
using fieldsync::testing::PgTestSchema;
using fieldsync::testing::TestPgUrl;
using nlohmann::json;

namespace {

constexpr int kGood = 40;
constexpr int kBad = 3;  // values the CHECK constraint refuses

std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

long RemoteCount(const PgTestSchema& db, const std::string& where) {
  auto r = db.Exec("SELECT count(*) FROM \"" + db.name() + "\".readings WHERE " + where);
  return std::stol(std::string(r.Value(0, 0)));
}

}  // namespace

TEST_GROUP(QuarantineSync){};

TEST(QuarantineSync, RefusedRowsAreQuarantinedAndLandAfterRetry) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  Gateway gw("[sync]\nurl = " + Quoted(*url) + "\nschema = \"" + db.name() + "\"\n");
  CommandOutput migrated = gw.Run("remote migrate");
  LONGS_EQUAL_TEXT(0, migrated.exit_code, migrated.err.c_str());
  db.Exec("ALTER TABLE \"" + db.name() +
          "\".readings ADD CONSTRAINT value_small CHECK (value < 1e6)");

  // The refused rows are spread through the batch: the bisection must find each.
  std::string frames;
  int bad_seen = 0;
  for (int i = 0; i < kGood + kBad; ++i) {
    bool bad = i % 14 == 5 && bad_seen < kBad;
    bad_seen += bad ? 1 : 0;
    frames += Frame(i, bad ? 5e6 + i : 20.0 + i);
  }
  LONGS_EQUAL(kBad, bad_seen);
  fieldsync::testing::WriteFile(gw.dir.File("frames.jsonl"), frames);
  CommandOutput ingested = gw.Run("ingest '" + gw.dir.File("frames.jsonl") + "'");
  LONGS_EQUAL_TEXT(0, ingested.exit_code, ingested.err.c_str());

  CommandOutput synced = gw.Run("sync");
  LONGS_EQUAL_TEXT(0, synced.exit_code, (synced.out + synced.err).c_str());
  CHECK_TEXT(synced.out.find("quarantined " + std::to_string(kBad)) != std::string::npos,
             synced.out.c_str());
  LONGS_EQUAL(kGood, RemoteCount(db, "true"));
  LONGS_EQUAL(0, RemoteCount(db, "value >= 1e6"));

  json list = gw.Json("quarantine list --json");
  LONGS_EQUAL(kBad, list["quarantined"].get<long>());
  LONGS_EQUAL(kBad, list["rows"].size());
  for (const json& row : list["rows"]) {
    CHECK(row["value"].get<double>() >= 5e6);
    STRCMP_EQUAL("23514", row["sqlstate"].get<std::string>().c_str());
    CHECK_TEXT(row["reason"].get<std::string>().find("value_small") != std::string::npos,
               row["reason"].get<std::string>().c_str());
  }
  json status = gw.Json("status --json");
  LONGS_EQUAL(kBad, status["quarantined"].get<long>());
  LONGS_EQUAL(0, status["pending"]["readings"].get<long>());

  // The remote is fixed; the quarantined rows go back to the queue and land.
  db.Exec("ALTER TABLE \"" + db.name() + "\".readings DROP CONSTRAINT value_small");
  CommandOutput retried = gw.Run("quarantine retry --all");
  LONGS_EQUAL_TEXT(0, retried.exit_code, retried.err.c_str());
  status = gw.Json("status --json");
  LONGS_EQUAL(0, status["quarantined"].get<long>());
  LONGS_EQUAL(kBad, status["pending"]["readings"].get<long>());
  synced = gw.Run("sync");
  LONGS_EQUAL_TEXT(0, synced.exit_code, (synced.out + synced.err).c_str());
  LONGS_EQUAL(kGood + kBad, RemoteCount(db, "true"));
  LONGS_EQUAL(kBad, RemoteCount(db, "value >= 1e6"));
  LONGS_EQUAL(0, gw.Json("status --json")["pending"]["readings"].get<long>());
}
