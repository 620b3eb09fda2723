// A half-open path to PostgreSQL: a loopback proxy between the agent and the server stops
// forwarding but keeps every socket open, so the kernel still acknowledges what the agent sends
// and nothing ever answers. The agent must notice (its status reports the failed sync) within a
// minute, keep acknowledging what a client posts meanwhile, and once the path forwards again
// land everything, once. Quick: op_timeout_s = 10 and a 25 s freeze; FIELDSYNC_FAULT_FULL=1: the
// default op_timeout_s = 30 and a 75 s freeze.
#include <signal.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/agent/http/http_client.hpp"
#include "tests/agent/run_net/agent_process.hpp"
#include "tests/fault/fault_env.hpp"
#include "tests/fault/fault_scenario.hpp"
#include "tests/sync/loop/agent_harness.hpp"
#include "tests/sync/tcp_proxy.hpp"

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

// Posts one reading every 10 ms (device "h", ts = base + i ms, value i), counting 202s.
class SteadyClient {
 public:
  SteadyClient(std::uint16_t port, long long base_ms) : port_(port), base_ms_(base_ms) {}
  void Finish() { loop_.Finish(); }
  long long sent() const { return sent_; }
  long long acknowledged() const { return acknowledged_; }

 private:
  void Loop() {
    testing::HttpClient client(port_);
    while (!loop_.stopping()) {
      const long long i = sent_++;
      if (client
              .Send("POST", "/api/data", testing::JsonFrame("h", base_ms_ + i, i),
                    std::string(testing::kFaultApiKey))
              .status == 202)
        ++acknowledged_;
      std::this_thread::sleep_for(10ms);
    }
  }

  std::uint16_t port_;
  long long base_ms_;
  std::atomic<long long> sent_{0};
  std::atomic<long long> acknowledged_{0};
  testing::BackgroundLoop loop_{[this] { Loop(); }};  // last
};

// last_sync.ok of the live status: 1 ok, 0 failed, -1 unknown (no answer or no sync yet).
int LastSyncOk(std::uint16_t port) {
  auto status = testing::LiveStatus(port);
  if (!status || !status->contains("last_sync") || !(*status)["last_sync"].is_object()) return -1;
  const auto& ok = (*status)["last_sync"]["ok"];
  return ok.is_boolean() ? (ok.get<bool>() ? 1 : 0) : -1;
}

}  // namespace

TEST_GROUP(HalfOpen) { testing::TempDir dir; };

TEST(HalfOpen, AStalledPathIsNoticedWithinAMinuteAndNothingIsLost) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  const auto started = std::chrono::steady_clock::now();
  const bool full = testing::FaultFull();
  testing::PgTestSchema schema(*url);
  auto [host, port] = testing::PgTarget(*url);
  testing::TcpProxy proxy(host, port);
  testing::FaultAgentConfig setup;
  setup.state_dir = dir.File("state");
  setup.http_port = testing::FreeLoopbackPort();
  setup.sync_url = testing::PgThroughProxy(*url, proxy.port());
  setup.sync_schema = schema.name();
  setup.op_timeout_s = full ? 30 : 10;
  const std::string config = testing::WriteFaultConfig(dir, setup);
  LONGS_EQUAL(0, testing::RunFieldsync(config, "remote migrate", dir.File("migrate.log")));

  testing::AgentProcess agent(config, dir.File("agent.log"));
  CHECK_TEXT(agent.WaitForHttpPort(10s) != 0, agent.Log().c_str());
  SteadyClient client(setup.http_port, testing::NowMs() - 3600'000LL);
  CHECK_TEXT(testing::WaitFor([&] { return testing::RemoteCount(schema) > 100; }, 20s),
             agent.Log().c_str());

  // Freeze while batches keep coming: some cycle is caught mid-operation on the frozen socket.
  proxy.SetFrozen(true);
  const auto frozen_at = std::chrono::steady_clock::now();
  CHECK_TEXT(testing::WaitFor([&] { return LastSyncOk(setup.http_port) == 0; }, 60s, 250ms),
             agent.Log().c_str());
  const auto detected_after = std::chrono::steady_clock::now() - frozen_at;
  const long long remote_frozen = testing::RemoteCount(schema);
  const long long acked_at_detection = client.acknowledged();
  // Ingest goes on regardless of the remote.
  std::this_thread::sleep_until(frozen_at + (full ? 75s : 25s));
  CHECK(client.acknowledged() > acked_at_detection);
  LONGS_EQUAL(remote_frozen, testing::RemoteCount(schema));

  proxy.SetFrozen(false);
  const auto thawed_at = std::chrono::steady_clock::now();
  client.Finish();
  const long long acknowledged = client.acknowledged();
  CHECK_TEXT(testing::WaitFor(
                 [&] {
                   return testing::RemoteCount(schema) >= acknowledged &&
                          LastSyncOk(setup.http_port) == 1;
                 },
                 60s),
             agent.Log().c_str());
  const auto recovered_after = std::chrono::steady_clock::now() - thawed_at;
  const long long pending = testing::LivePending(setup.http_port);
  const long long stored = testing::LiveInputReadings(setup.http_port, "http");
  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(10s), agent.Log().c_str());

  auto check =
      schema.Exec("SELECT count(*), count(DISTINCT value), coalesce(max(value), -1) FROM " +
                  schema.name() + ".readings");
  const long long landed = std::stoll(std::string(check.Value(0, 0)));
  const long long distinct = std::stoll(std::string(check.Value(0, 1)));
  LONGS_EQUAL(acknowledged, landed);
  LONGS_EQUAL(landed, distinct);
  LONGS_EQUAL(client.sent() - 1, std::stoll(std::string(check.Value(0, 2))));
  LONGS_EQUAL(0, pending);
  LONGS_EQUAL(acknowledged, stored);
  const std::string integrity = testing::IntegrityCheck(setup.state_dir);
  STRCMP_EQUAL("ok", integrity.c_str());
  const auto detected_s = std::chrono::duration_cast<std::chrono::seconds>(detected_after);
  CHECK(detected_s < 60s);

  testing::ScenarioTally tally;
  tally.generated = client.sent();
  tally.acknowledged = acknowledged;
  tally.stored_local = stored;
  tally.landed_remote = landed;
  tally.duplicates = landed - distinct;
  tally.integrity = integrity;
  tally.extra = {
      {"op_timeout_s", std::to_string(setup.op_timeout_s)},
      {"detected_after_s", std::to_string(detected_s.count())},
      {"recovered_after_s",
       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(recovered_after).count())}};
  testing::PrintPassLine("half-open-pg", tally, started);
}
