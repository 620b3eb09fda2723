// SIGKILL storm: `fieldsync run` with an HTTP input and sync to PostgreSQL, killed at random
// moments while a client posts readings and the sync loop drains them, then restarted. The client
// behaves like a real one: it resends a batch until it gets 202, so a batch whose 202 was lost in
// a kill arrives twice and must be absorbed. After every kill the store passes integrity_check;
// at the end every acknowledged reading is in the remote exactly once and nothing else is.
// Quick: 10 kills; FIELDSYNC_FAULT_FULL=1: 100.
#include <atomic>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "tests/agent/http/http_client.hpp"
#include "tests/agent/run_net/agent_process.hpp"
#include "tests/fault/fault_env.hpp"
#include "tests/fault/fault_scenario.hpp"
#include "tests/sync/loop/agent_harness.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

#include <CppUTest/MemoryLeakWarningPlugin.h>  // after TestHarness.h, which it needs

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

// The client thread allocates across the test's lifetime; CppUTest's per-test accounting would
// report its buffers as leaks.
const bool kLeakOverloadsOff = [] {
  MemoryLeakWarningPlugin::turnOffNewDeleteOverloads();
  return true;
}();

constexpr int kFramesPerPost = 25;

// Reading i: device d(i % 4), metric t, ts = base + i ms, value i.
std::string Batch(long long first, long long base_ms) {
  std::string body = "[";
  for (long long i = first; i < first + kFramesPerPost; ++i) {
    if (i != first) body += ",";
    body += testing::JsonFrame("d" + std::to_string(i % 4), base_ms + i, i);
  }
  return body + "]";
}

// Posts consecutive batches until told to stop, each resent until it is answered 202.
class PostingClient {
 public:
  PostingClient(std::uint16_t port, long long base_ms) : port_(port), base_ms_(base_ms) {}
  // Lets the batch in flight finish (it needs a running agent), then returns.
  void Finish() { loop_.Finish(); }
  long long acknowledged() const { return acknowledged_; }
  long long resent() const { return resent_; }

 private:
  void Loop() {
    testing::HttpClient client(port_);
    while (!loop_.stopping()) {
      const std::string body = Batch(acknowledged_, base_ms_);
      for (bool first = true;; first = false) {
        if (!first) {
          ++resent_;
          std::this_thread::sleep_for(50ms);
        }
        if (client.Send("POST", "/api/data", body, std::string(testing::kFaultApiKey)).status ==
            202)
          break;
      }
      acknowledged_ += kFramesPerPost;
      std::this_thread::sleep_for(15ms);
    }
  }

  std::uint16_t port_;
  long long base_ms_;
  std::atomic<long long> acknowledged_{0};
  std::atomic<long long> resent_{0};
  testing::BackgroundLoop loop_{[this] { Loop(); }};  // last
};

}  // namespace

TEST_GROUP(SigkillStorm) { testing::TempDir dir; };

TEST(SigkillStorm, KillsDuringIngestAndDrainLoseAndDuplicateNothingAcknowledged) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  const auto started = std::chrono::steady_clock::now();
  const bool full = testing::FaultFull();
  const int kills = full ? 100 : 10;
  testing::PgTestSchema schema(*url);
  testing::FaultAgentConfig setup;
  setup.state_dir = dir.File("state");
  setup.http_port = testing::FreeLoopbackPort();
  setup.sync_url = schema.url();
  setup.sync_schema = schema.name();
  setup.batch_size = 300;
  const std::string config = testing::WriteFaultConfig(dir, setup);
  LONGS_EQUAL(0, testing::RunFieldsync(config, "remote migrate", dir.File("migrate.log")));

  const long long base_ms = testing::NowMs() - 2 * 3600'000LL;
  PostingClient client(setup.http_port, base_ms);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> uptime_ms(200, full ? 1500 : 1200);
  int killed_serving = 0;    // kills after the HTTP server was up
  int killed_mid_drain = 0;  // kills with part of what was stored already uploaded
  long long remote_before = 0;
  for (int k = 0; k < kills; ++k) {
    testing::AgentProcess agent(config, dir.File("agent" + std::to_string(k % 4) + ".log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(uptime_ms(rng)));
    // The last round lets the client finish its batch, so what it counts is exactly what it has
    // been acknowledged.
    if (k == kills - 1) client.Finish();
    agent.Kill();
    if (agent.Log().find("http: listening") != std::string::npos) ++killed_serving;
    const std::string integrity = testing::IntegrityCheck(setup.state_dir);
    STRCMP_EQUAL_TEXT("ok", integrity.c_str(), ("after kill " + std::to_string(k + 1)).c_str());
    const long long remote = testing::RemoteCount(schema);
    if (remote > remote_before && testing::LocalPending(setup.state_dir) > 0) ++killed_mid_drain;
    remote_before = remote;
  }
  CHECK_TEXT(killed_serving >= kills / 2, std::to_string(killed_serving).c_str());
  CHECK_TEXT(killed_mid_drain > 0, "no kill met the sync loop with data in flight");

  // Nothing acknowledged was lost by the kills and nothing unacknowledged is held: the store and
  // the remote together hold exactly readings 0..acknowledged-1. (A batch killed between the
  // remote COMMIT and the local delete is in both, and is sent again later.)
  const long long acknowledged = client.acknowledged();
  CHECK(acknowledged > 0);
  std::set<long long> held;
  for (const auto& r : testing::StoredReadings(setup.state_dir))
    held.insert(static_cast<long long>(r.value));
  auto remote_values = schema.Exec("SELECT value::bigint FROM " + schema.name() + ".readings");
  for (int row = 0; row < remote_values.rows(); ++row)
    held.insert(std::stoll(std::string(remote_values.Value(row, 0))));
  LONGS_EQUAL(acknowledged, static_cast<long long>(held.size()));
  LONGS_EQUAL(0, *held.begin());
  LONGS_EQUAL(acknowledged - 1, *held.rbegin());

  testing::AgentProcess last(config, dir.File("last.log"));
  CHECK_TEXT(testing::WaitFor(
                 [&] {
                   return testing::RemoteCount(schema) >= acknowledged &&
                          testing::LivePending(setup.http_port) == 0;
                 },
                 full ? 300s : 90s),
             last.Log().c_str());
  last.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, last.Wait(10s), last.Log().c_str());

  // Exactly readings 0..N-1, each with the device and ts it was generated with.
  const std::string n = std::to_string(acknowledged);
  auto check = schema.Exec(
      "SELECT count(*), count(DISTINCT value), bool_and(value = trunc(value) AND value >= 0 AND "
      "value < " +
      n +
      " AND metric = 't' AND device = 'd' || (value::bigint % 4) AND "
      "(extract(epoch from ts) * 1000)::bigint = " +
      std::to_string(base_ms) + " + value::bigint) FROM " + schema.name() + ".readings");
  const long long landed = std::stoll(std::string(check.Value(0, 0)));
  const long long distinct = std::stoll(std::string(check.Value(0, 1)));
  LONGS_EQUAL(acknowledged, landed);
  LONGS_EQUAL(acknowledged, distinct);
  STRCMP_EQUAL("t", std::string(check.Value(0, 2)).c_str());
  LONGS_EQUAL(0, testing::LocalPending(setup.state_dir));
  const std::string integrity = testing::IntegrityCheck(setup.state_dir);
  STRCMP_EQUAL("ok", integrity.c_str());

  testing::ScenarioTally tally;
  tally.generated = acknowledged;
  tally.acknowledged = acknowledged;
  tally.stored_local = static_cast<long long>(held.size());
  tally.landed_remote = landed;
  tally.duplicates = landed - distinct;
  tally.integrity = integrity;
  tally.extra = {{"kills", std::to_string(kills)},
                 {"kills_mid_drain", std::to_string(killed_mid_drain)},
                 {"batches_resent", std::to_string(client.resent())}};
  testing::PrintPassLine("sigkill-storm", tally, started);
}
