// Disk full: the state directory on a 4 MiB tmpfs, mostly taken by a filler file, with
// `on_full = "reject_new"` and a store budget far above the disk, so ENOSPC is what stops the
// store. A client posts until the agent answers 503 and goes on a while. Every frame is either
// acknowledged or counted as refused (store_full) in the agent's status, the store passes
// integrity_check, and once the filler is removed the same running agent accepts new frames.
// Afterwards `fieldsync sync` lands exactly the acknowledged readings. Quick and full are the same
// (the scenario takes seconds).
#include <signal.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/agent/http/http_client.hpp"
#include "tests/agent/run_net/agent_process.hpp"
#include "tests/fault/fault_env.hpp"
#include "tests/fault/fault_scenario.hpp"
#include "tests/support/small_filesystem.hpp"
#include "tests/sync/loop/agent_harness.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

#include <CppUTest/MemoryLeakWarningPlugin.h>  // after TestHarness.h, which it needs

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

const bool kLeakOverloadsOff = [] {
  MemoryLeakWarningPlugin::turnOffNewDeleteOverloads();
  return true;
}();

constexpr int kFramesPerPost = 50;

// What the agent answered, added up over every POST.
struct Answers {
  long long sent = 0;
  long long accepted = 0;
  long long refused = 0;  // frames answered store_full
  long long other = 0;    // frames answered anything else (duplicates, other reasons)
  int status_503 = 0;

  // Posts frames first..first+kFramesPerPost (device "f", ts = base + i ms, value i, plus a
  // 200-byte text member the decoder ignores, so the disk fills in seconds).
  unsigned Post(testing::HttpClient& client, long long first, long long base_ms) {
    std::string body = "[";
    const std::string padding(200, 'x');
    for (long long i = first; i < first + kFramesPerPost; ++i) {
      if (i != first) body += ",";
      body += "{\"device\":\"f\",\"ts\":" + std::to_string(base_ms + i) +
              ",\"t\":" + std::to_string(i) + ",\"note\":\"" + padding + "\"}";
    }
    auto answer = client.Send("POST", "/api/data", body + "]", std::string(testing::kFaultApiKey));
    sent += kFramesPerPost;
    auto counts = nlohmann::json::parse(answer.body, nullptr, false);
    if (counts.is_discarded() || !counts.contains("accepted")) {
      other += kFramesPerPost;
      return answer.status;
    }
    accepted += counts["accepted"].get<long long>();
    const long long full = counts["rejected"].value("store_full", 0LL);
    refused += full;
    other += kFramesPerPost - counts["accepted"].get<long long>() - full;
    if (answer.status == 503) ++status_503;
    return answer.status;
  }
};

}  // namespace

TEST_GROUP(DiskFull) { testing::TempDir dir; };

TEST(DiskFull, RefusedFramesAreCountedNothingIsCorruptAndSpaceFreedIsUsedAgain) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  testing::SmallFilesystem fs(dir, "4m");
  if (!fs.mounted()) return;
  const auto started = std::chrono::steady_clock::now();
  testing::PgTestSchema schema(*url);
  testing::FaultAgentConfig setup;
  setup.state_dir = fs.path() + "/state";
  setup.http_port = testing::FreeLoopbackPort();
  // The running agent is local only, so what it holds stays in the store; the same settings
  // with sync upload it with `fieldsync sync` at the end.
  testing::FaultAgentConfig with_sync = setup;
  with_sync.sync_url = schema.url();
  with_sync.sync_schema = schema.name();
  setup.extra = "[store]\nmax_mb = 64\non_full = \"reject_new\"\n";
  const std::string config = testing::WriteFaultConfig(dir, setup);
  const std::string sync_config = testing::WriteFaultConfig(dir, with_sync, "sync.toml");
  LONGS_EQUAL(0, testing::RunFieldsync(sync_config, "remote migrate", dir.File("migrate.log")));
  fs.WriteFiller("filler", 2 * 1024 * 1024 + 512 * 1024);

  testing::AgentProcess agent(config, dir.File("agent.log"));
  CHECK_TEXT(agent.WaitForHttpPort(10s) != 0, agent.Log().c_str());
  testing::HttpClient client(setup.http_port);
  const long long base_ms = testing::NowMs() - 3600'000LL;
  Answers answers;
  for (int post = 0; post < 2000 && answers.status_503 < 20; ++post)
    answers.Post(client, answers.sent, base_ms);
  CHECK_TEXT(answers.status_503 >= 20, "the disk never filled up");
  CHECK(answers.accepted > 0);
  LONGS_EQUAL_TEXT(0, answers.other, agent.Log().c_str());
  LONGS_EQUAL(answers.sent, answers.accepted + answers.refused);

  // Space comes back: the same agent stores new frames again.
  CHECK(fs.RemoveFiller("filler"));
  unsigned after = 0;
  CHECK_TEXT(
      testing::WaitFor([&] { return (after = answers.Post(client, answers.sent, base_ms)) == 202; },
                       10s, 200ms),
      agent.Log().c_str());
  for (int post = 0; post < 5; ++post)
    LONGS_EQUAL(202, answers.Post(client, answers.sent, base_ms));
  LONGS_EQUAL(0, answers.other);

  // The agent counted exactly what it refused and accepted; nothing was dropped.
  auto status = testing::LiveStatus(setup.http_port);
  CHECK(status.has_value());
  long long status_readings = -1;
  long long status_refused = -1;
  for (const auto& input : status->at("inputs")) {
    if (input.at("name") != "http") continue;
    status_readings = input.at("readings").get<long long>();
    status_refused = input.at("rejected").value("store_full", 0LL);
  }
  LONGS_EQUAL(answers.accepted, status_readings);
  LONGS_EQUAL(answers.refused, status_refused);
  LONGS_EQUAL(0, status->at("dropped").get<long long>());
  const long long pending = status->at("pending").at("readings").get<long long>();
  LONGS_EQUAL_TEXT(
      answers.accepted, pending,
      (status->dump() + " remote " + std::to_string(testing::RemoteCount(schema))).c_str());
  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(10s), agent.Log().c_str());
  const std::string integrity = testing::IntegrityCheck(setup.state_dir);
  STRCMP_EQUAL("ok", integrity.c_str());

  LONGS_EQUAL_TEXT(0, testing::RunFieldsync(sync_config, "sync", dir.File("sync.log")),
                   testing::ReadFile(dir.File("sync.log")).c_str());
  auto check =
      schema.Exec("SELECT count(*), count(DISTINCT value) FROM " + schema.name() + ".readings");
  const long long landed = std::stoll(std::string(check.Value(0, 0)));
  const long long distinct = std::stoll(std::string(check.Value(0, 1)));
  LONGS_EQUAL(answers.accepted, landed);
  LONGS_EQUAL(landed, distinct);

  testing::ScenarioTally tally;
  tally.generated = answers.sent;
  tally.acknowledged = answers.accepted;
  tally.stored_local = pending;
  tally.landed_remote = landed;
  tally.duplicates = landed - distinct;
  tally.integrity = integrity;
  tally.extra = {{"refused", std::to_string(answers.refused)},
                 {"counted_store_full", std::to_string(status_refused)},
                 {"answers_503", std::to_string(answers.status_503)}};
  testing::PrintPassLine("disk-full", tally, started);
}
