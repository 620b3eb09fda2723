// Crash safety of the upload path: a backlog drained by `fieldsync run` while it is killed with
// SIGKILL at random moments and restarted. Afterwards the remote holds exactly the generated
// readings, once each, the local store is empty, and the store passed integrity_check after
// every kill. Quick: 60,000 readings and 10 kills; FIELDSYNC_FAULT_FULL=1: 200,000 and 30.
#include <random>
#include <string>

#include "tests/fault/fault_env.hpp"
#include "tests/fault/fault_scenario.hpp"
#include "tests/sync/loop/agent_harness.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using namespace std::chrono_literals;

TEST_GROUP(CrashSafety) { testing::TempDir dir; };

TEST(CrashSafety, ABacklogDrainedThroughRandomKillsArrivesExactlyOnce) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  const auto started = std::chrono::steady_clock::now();
  const bool full = testing::FaultFull();
  const int readings = full ? 200'000 : 60'000;
  const int kills = full ? 32 : 10;
  const int batch = full ? 1000 : 100;
  testing::PgTestSchema schema(*url);
  const std::string config = dir.File("fieldsync.toml");
  testing::WriteFile(config, testing::AgentConfig(dir, schema, batch, 1));
  LONGS_EQUAL(0, testing::RunFieldsync(config, "remote migrate", dir.File("migrate.log")));

  // Four devices, 10 ms apart per device, ending a minute ago: reading i has value i, device
  // d(i % 4) and ts base + (i / 4) * 10 ms, so the remote can be checked against it in SQL
  // (a set of 200,000 strings in this process costs minutes under the leak checker).
  std::string frames;
  const long long base = testing::NowMs() - 60'000 - (readings / 4) * 10LL;
  for (int i = 0; i < readings; ++i) {
    const std::string device = "d" + std::to_string(i % 4);
    const long long ts = base + (i / 4) * 10LL;
    frames += testing::JsonFrame(device, ts, i) + "\n";
  }
  testing::WriteFile(dir.File("frames.jsonl"), frames);
  frames.clear();
  LONGS_EQUAL_TEXT(
      0,
      testing::RunFieldsync(config, "ingest " + dir.File("frames.jsonl"), dir.File("ingest.log")),
      testing::ReadFile(dir.File("ingest.log")).c_str());
  LONGS_EQUAL_TEXT(readings, testing::LocalPending(dir.File("state")),
                   testing::ReadFile(dir.File("ingest.log")).c_str());

  // Half of the lives end at a random moment, half the moment they land their first batch: the
  // drain moves tens of thousands of readings a second, so random moments alone often fall before
  // the first commit or after the last one.
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(30, full ? 1500 : 300);
  int mid_drain = 0;
  for (int k = 0; k < kills; ++k) {
    const long long before = testing::RemoteCount(schema);
    {
      testing::RunningAgent agent(config, dir.File("agent.log"));
      if (k % 2 == 1 && before < readings) {
        testing::WaitFor([&] { return testing::RemoteCount(schema) > before; }, 10s, 2ms);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
      }
      agent.Kill();
    }
    const long long remote = testing::RemoteCount(schema);
    std::fprintf(stderr, "kill %d: %lld readings remote\n", k + 1, remote);
    if (remote > 0 && remote < readings) ++mid_drain;
    const std::string integrity = testing::IntegrityCheck(dir.File("state"));
    STRCMP_EQUAL_TEXT("ok", integrity.c_str(), ("after kill " + std::to_string(k + 1)).c_str());
  }
  std::fprintf(stderr, "%d kills, %d of them with the backlog part-way uploaded\n", kills,
               mid_drain);
  CHECK_TEXT(mid_drain > 0, "no kill happened while the backlog was draining");

  testing::RunningAgent agent(config, dir.File("agent.log"));
  CHECK_TEXT(
      testing::WaitFor([&] { return testing::RemoteCount(schema) >= readings; }, full ? 300s : 60s),
      testing::ReadFile(dir.File("agent.log")).c_str());
  std::this_thread::sleep_for(1500ms);  // a cycle more: nothing new may arrive
  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(10s));

  LONGS_EQUAL(readings, testing::RemoteCount(schema));
  // Exactly the generated readings: N rows whose values are N distinct integers 0..N-1, each
  // with the device, metric and ts it was generated with.
  const std::string n = std::to_string(readings);
  auto check = schema.Exec("SELECT count(*) = " + n + " AND count(DISTINCT value) = " + n +
                           " AND min(value) = 0 AND max(value) = " + n +
                           " - 1"
                           " AND bool_and(value = trunc(value) AND metric = 't'"
                           " AND device = 'd' || (value::bigint % 4)"
                           " AND (extract(epoch from ts) * 1000)::bigint = " +
                           std::to_string(base) + " + (value::bigint / 4) * 10) FROM " +
                           schema.name() + ".readings");
  STRCMP_EQUAL("t", std::string(check.Value(0, 0)).c_str());
  LONGS_EQUAL(0, testing::LocalPending(dir.File("state")));
  STRCMP_EQUAL("ok", testing::IntegrityCheck(dir.File("state")).c_str());

  testing::ScenarioTally tally;
  tally.generated = readings;
  tally.acknowledged = readings;  // `ingest` exited 0: every frame committed
  tally.stored_local = readings;
  tally.landed_remote = testing::RemoteCount(schema);
  tally.duplicates = 0;  // count(DISTINCT value) = count(*) above
  tally.extra = {{"kills", std::to_string(kills)}, {"kills_mid_drain", std::to_string(mid_drain)}};
  testing::PrintPassLine("drain-crash", tally, started);
}
