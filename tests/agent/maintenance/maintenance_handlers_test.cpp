// The run-request handlers a running agent registers for aggregate, backfill and cleanup, on a
// real store in a temporary directory: they answer with the command's report or a usage error.
#include <optional>
#include <string>

#include "agent/bucket_maintenance_command.hpp"
#include "agent/local_store.hpp"
#include "core/clock.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

namespace agent = fieldsync::agent;
namespace core = fieldsync::core;
namespace store = fieldsync::store;
using nlohmann::json;

namespace {

constexpr core::TimeUs kMinute = 60 * core::kMicrosPerSecond;

core::Expected<json> Call(const std::map<std::string, agent::RunCommandHandler>& handlers,
                          const std::string& name, const json& args) {
  std::optional<core::Expected<json>> answer;
  handlers.at(name)(args, [&answer](core::Expected<json> result) { answer = std::move(result); });
  if (!answer) FAIL("the handler did not answer at once");
  return *answer;
}

store::IngestFrame Frame(core::TimeUs ts, double value) {
  store::IngestFrame frame;
  frame.readings.push_back(
      core::Reading{"dev1", "temperature", ts, value, core::TsSource::kDevice});
  return frame;
}

}  // namespace

TEST_GROUP(MaintenanceHandlers) {
  fieldsync::testing::TempDir dir;
  core::SystemClock clock;
  agent::Config config;
  std::unique_ptr<agent::LocalStore> local;

  void setup() override {
    config.gateway = "gw-handlers";
    config.state_dir = dir.File("state");
    config.aggregate.timezone = "Europe/Berlin";
    config.sync.url = "postgresql://127.0.0.1:1/none";
    auto opened = agent::LocalStore::Open(config, clock);
    if (!opened) FAIL(opened.error().message.c_str());
    local = std::move(*opened);
    // Three hours of readings every 10 minutes, then one late reading inside the first hour.
    const core::TimeUs start = *core::ParseRfc3339("2026-10-25T00:00:00Z");
    store::IngestBatch batch;
    batch.input = "test";
    for (int i = 0; i < 18; ++i) {
      batch.frames.push_back(Frame(start + i * 10 * kMinute, 20.0 + i));
    }
    if (!local->store().Commit(batch)) FAIL("commit");
    store::IngestBatch late;
    late.input = "test";
    late.frames.push_back(Frame(start + 5 * kMinute, 99.0));
    if (!local->store().Commit(late)) FAIL("commit late");
  }
};

TEST(MaintenanceHandlers, AggregateAnswersWithTheReport) {
  auto handlers =
      agent::BucketMaintenanceHandlers(config, local->store(), local->aggregates(), clock);
  auto dry = Call(handlers, "aggregate", {{"scope", "full"}, {"dry_run", true}});
  CHECK(dry.has_value());
  LONGS_EQUAL(3, (*dry)["hourly"]["buckets"].get<int>());
  LONGS_EQUAL(1, (*dry)["hourly"]["rewritten"].get<int>());
  STRCMP_EQUAL("Europe/Berlin", (*dry)["daily"]["timezone"].get<std::string>().c_str());

  auto done = Call(handlers, "aggregate", {{"scope", "full"}});
  CHECK(done.has_value());
  LONGS_EQUAL(1, (*done)["hourly"]["rewritten"].get<int>());
  auto again = Call(handlers, "aggregate", {{"scope", "full"}});
  LONGS_EQUAL(0, (*again)["hourly"]["rewritten"].get<int>());
}

TEST(MaintenanceHandlers, BackfillLeavesTheUploadToTheSyncLoop) {
  auto handlers =
      agent::BucketMaintenanceHandlers(config, local->store(), local->aggregates(), clock);
  auto report = Call(handlers, "backfill", {{"from", "2026-10-25"}, {"to", "2026-10-25"}});
  CHECK(report.has_value());
  STRCMP_EQUAL("2026-10-24T22:00:00Z", (*report)["hourly"]["from"].get<std::string>().c_str());
  LONGS_EQUAL(3, (*report)["hourly"]["buckets"].get<int>());
  LONGS_EQUAL(1, (*report)["hourly"]["rewritten"].get<int>());
  LONGS_EQUAL(1, (*report)["daily"]["rewritten"].get<int>());
  STRCMP_EQUAL("queued", (*report)["upload"]["status"].get<std::string>().c_str());
}

TEST(MaintenanceHandlers, CleanupAndUsageErrors) {
  auto handlers =
      agent::BucketMaintenanceHandlers(config, local->store(), local->aggregates(), clock);
  auto cleanup = Call(handlers, "cleanup", {{"retention_days", 0}, {"dry_run", true}});
  CHECK(cleanup.has_value());
  LONGS_EQUAL(0, (*cleanup)["hourly"].get<int>());        // nothing uploaded yet
  LONGS_EQUAL(4, (*cleanup)["kept_pending"].get<int>());  // 3 hours and a day, all pending

  for (const auto& [name, args] :
       {std::pair<std::string, json>{"cleanup", {{"retention_days", -1}}},
        {"aggregate", {{"scope", "weekly"}}},
        {"backfill", {{"from", "2026-10-26"}, {"to", "2026-10-25"}}},
        {"backfill", {{"days", 1}, {"extra", true}}}}) {
    auto answer = Call(handlers, name, args);
    CHECK_FALSE(answer.has_value());
    CHECK(answer.error().code == core::Errc::kInvalidArgument);
  }
}
