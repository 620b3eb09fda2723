// `fieldsync quarantine list|retry|purge` on the built binary, over a store whose refused rows
// were put in the quarantine through the store API (no remote needed).
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/state_lock.hpp"
#include "store/store.hpp"
#include "tests/agent/quarantine/quarantine_fixture.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::testing::CommandOutput;
using fieldsync::testing::Frame;
using fieldsync::testing::Gateway;
using nlohmann::json;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_GROUP(QuarantineCli) {
  Gateway gw;

  // Ingests 5 frames and quarantines the 2nd and 4th reading as the uploader would.
  void setup() override {
    std::string frames;
    for (int i = 0; i < 5; ++i) frames += Frame(i, 10.0 + i);
    fieldsync::testing::WriteFile(gw.dir.File("frames.jsonl"), frames);
    CommandOutput r = gw.Run("ingest '" + gw.dir.File("frames.jsonl") + "'");
    LONGS_EQUAL_TEXT(0, r.exit_code, r.err.c_str());
    fieldsync::core::SystemClock clock;
    auto local = gw.OpenLocal(clock);
    CHECK(local != nullptr);
    auto pending = local->store().OldestPending(10);
    CHECK_TRUE(pending.has_value());
    LONGS_EQUAL(5, pending->ids.size());
    auto moved =
        local->store().Quarantine({pending->ids[1], pending->ids[3]},
                                  "SQLSTATE 23514: new row violates check constraint", "23514");
    CHECK_TRUE(moved.has_value());
  }

  std::vector<long> ListedIds() {
    json list = gw.Json("quarantine list --json");
    std::vector<long> ids;
    for (const json& row : list["rows"]) ids.push_back(row["id"].get<long>());
    return ids;
  }
};

TEST(QuarantineCli, ListShowsEveryFieldAndStatusCountsThem) {
  json list = gw.Json("quarantine list --json");
  LONGS_EQUAL(2, list["quarantined"].get<long>());
  LONGS_EQUAL(2, list["rows"].size());
  const json& row = list["rows"][0];
  STRCMP_EQUAL("dev1", row["device"].get<std::string>().c_str());
  STRCMP_EQUAL("temp", row["metric"].get<std::string>().c_str());
  STRCMP_EQUAL("2023-11-14T22:13:21Z", row["ts"].get<std::string>().c_str());
  DOUBLES_EQUAL(11.0, row["value"].get<double>(), 0.0);
  STRCMP_EQUAL("device", row["ts_source"].get<std::string>().c_str());
  STRCMP_EQUAL("23514", row["sqlstate"].get<std::string>().c_str());
  CHECK(Contains(row["reason"].get<std::string>(), "check constraint"));
  CHECK(row["quarantined_at"].is_string());
  STRCMP_EQUAL("2023-11-14T22:13:23Z", list["rows"][1]["ts"].get<std::string>().c_str());

  json limited = gw.Json("quarantine list --json --limit 1");
  LONGS_EQUAL(2, limited["quarantined"].get<long>());
  LONGS_EQUAL(1, limited["rows"].size());
  CommandOutput text = gw.Run("quarantine list --limit 1");
  LONGS_EQUAL(0, text.exit_code);
  CHECK_TEXT(Contains(text.out, "2 quarantined reading(s), 1 shown"), text.out.c_str());

  json status = gw.Json("status --json");
  LONGS_EQUAL(2, status["quarantined"].get<long>());
  LONGS_EQUAL(3, status["pending"]["readings"].get<long>());
}

TEST(QuarantineCli, PurgeOneIdThenAllWithDryRunFirst) {
  std::vector<long> ids = ListedIds();
  LONGS_EQUAL(2, ids.size());
  CommandOutput dry = gw.Run("quarantine purge --all --dry-run");
  LONGS_EQUAL(0, dry.exit_code);
  CHECK_TEXT(Contains(dry.out, "2 quarantined reading(s) would be purged"), dry.out.c_str());
  LONGS_EQUAL(2, ListedIds().size());

  CommandOutput one = gw.Run("quarantine purge " + std::to_string(ids[0]));
  LONGS_EQUAL_TEXT(0, one.exit_code, one.err.c_str());
  CHECK_TEXT(Contains(one.out, "1 quarantined reading(s) purged"), one.out.c_str());
  CHECK(ListedIds() == std::vector<long>{ids[1]});
  LONGS_EQUAL(1, gw.Json("status --json")["quarantined"].get<long>());

  LONGS_EQUAL(0, gw.Run("quarantine purge --all").exit_code);
  LONGS_EQUAL(0, gw.Json("status --json")["quarantined"].get<long>());
  LONGS_EQUAL(3, gw.Json("status --json")["pending"]["readings"].get<long>());
}

TEST(QuarantineCli, RetryPutsThemBackInTheUploadQueue) {
  CommandOutput r = gw.Run("quarantine retry --all");
  LONGS_EQUAL_TEXT(0, r.exit_code, r.err.c_str());
  CHECK_TEXT(Contains(r.out, "2 quarantined reading(s) retried"), r.out.c_str());
  json status = gw.Json("status --json");
  LONGS_EQUAL(0, status["quarantined"].get<long>());
  LONGS_EQUAL(5, status["pending"]["readings"].get<long>());
}

TEST(QuarantineCli, AnUnknownIdChangesNothingAndFails) {
  std::vector<long> ids = ListedIds();
  CommandOutput r = gw.Run("quarantine purge " + std::to_string(ids[0]) + " 987654");
  LONGS_EQUAL(1, r.exit_code);
  CHECK_TEXT(Contains(r.err, "987654") && Contains(r.err, "nothing changed"), r.err.c_str());
  LONGS_EQUAL(2, ListedIds().size());
}

TEST(QuarantineCli, RetryAndPurgeNeedAllOrIds) {
  LONGS_EQUAL(2, gw.Run("quarantine retry").exit_code);
  LONGS_EQUAL(2, gw.Run("quarantine purge --all 3").exit_code);
  LONGS_EQUAL(2, ListedIds().size());
}

TEST(QuarantineCli, ChangesAreRefusedWhileTheStoreIsLocked) {
  auto lock = fieldsync::store::StateLock::Acquire(gw.state);
  CHECK_TRUE(lock.has_value());
  CommandOutput r = gw.Run("quarantine retry --all");
  LONGS_EQUAL(1, r.exit_code);
  CHECK_TEXT(Contains(r.err, "fieldsync run"), r.err.c_str());
  // Listing only reads: it works while the agent runs.
  LONGS_EQUAL(2, gw.Json("quarantine list --json")["quarantined"].get<long>());
  LONGS_EQUAL(2, ListedIds().size());
}
