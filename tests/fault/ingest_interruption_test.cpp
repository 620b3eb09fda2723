// Inputs interrupted while they ingest, with sync to PostgreSQL on: the broker restarted under a
// stream of QoS 1 messages (ack = "durable"), and the Arduino's pseudo-terminal unplugged and
// plugged back while it sends. Each ends with every acknowledged reading in the remote exactly
// once. Quick: one broker restart and two unplugs; FIELDSYNC_FAULT_FULL=1: three and six.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "tests/agent/run_net/agent_process.hpp"
#include "tests/drivers/serial/pty_pair.hpp"
#include "tests/fault/fault_env.hpp"
#include "tests/fault/fault_scenario.hpp"
#include "tests/fault/serial_sender.hpp"
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

constexpr long long kMessagesPerBatch = 40;

// Message i: device "m1" (from the topic), ts = base + i ms, value i.
std::string Messages(long long first, long long base_ms) {
  std::string lines;
  for (long long i = first; i < first + kMessagesPerBatch; ++i)
    lines += "{\"ts\":" + std::to_string(base_ms + i) + ",\"v\":" + std::to_string(i) + "}\n";
  return lines;
}

// Publishes batches of QoS 1 messages from mosquitto_pub processes; a batch that failed (the
// broker went away under it) is published again whole, as a device would.
class BatchPublisher {
 public:
  BatchPublisher(std::string url, std::string topic, long long base_ms)
      : url_(std::move(url)), topic_(std::move(topic)), base_ms_(base_ms) {}
  void Finish() { loop_.Finish(); }
  long long published() const { return published_; }
  long long republished() const { return republished_; }

 private:
  void Loop() {
    // mosquitto_pub exits at once while the broker is down, and writing the rest of a batch to
    // its pipe would raise SIGPIPE; blocked in this thread, the write fails with EPIPE instead.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    while (!loop_.stopping()) {
      const std::string lines = Messages(published_, base_ms_);
      while (!testing::PublishLines(url_, topic_, lines)) {
        if (loop_.stopping())
          return;  // the scenario failed with the broker down: do not wait for it
        ++republished_;
        std::this_thread::sleep_for(200ms);
      }
      published_ += kMessagesPerBatch;
      std::this_thread::sleep_for(100ms);
    }
  }

  std::string url_;
  std::string topic_;
  long long base_ms_;
  std::atomic<long long> published_{0};
  std::atomic<long long> republished_{0};
  testing::BackgroundLoop loop_{[this] { Loop(); }};  // last
};

// Readings of `device` in the remote, and how many of them are there more than once by value.
std::pair<long long, long long> RemoteOf(const testing::PgTestSchema& schema,
                                         const std::string& device) {
  auto result = schema.Exec("SELECT count(*), count(DISTINCT value) FROM " + schema.name() +
                            ".readings WHERE device = '" + device + "'");
  const long long count = std::stoll(std::string(result.Value(0, 0)));
  return {count, count - std::stoll(std::string(result.Value(0, 1)))};
}

}  // namespace

TEST_GROUP(IngestInterruption) {
  testing::TempDir dir;
  testing::FaultAgentConfig setup;

  std::string Configure(const testing::PgTestSchema& schema, const std::string& inputs) {
    setup.state_dir = dir.File("state");
    setup.http_port = testing::FreeLoopbackPort();
    setup.sync_url = schema.url();
    setup.sync_schema = schema.name();
    setup.extra = inputs;
    const std::string config = testing::WriteFaultConfig(dir, setup);
    LONGS_EQUAL(0, testing::RunFieldsync(config, "remote migrate", dir.File("migrate.log")));
    return config;
  }
};

TEST(IngestInterruption, BrokerRestartsUnderADurableStreamLoseNothing) {
  auto url = testing::TestPgUrl();
  const std::string broker = testing::BrokerUrl();
  auto stop = testing::RequireEnv("FIELDSYNC_TEST_MQTT_STOP");
  auto start = testing::RequireEnv("FIELDSYNC_TEST_MQTT_START");
  if (!url || broker.empty() || !stop || !start) {
    std::printf("\nSKIPPED: needs FIELDSYNC_TEST_PGURL and the broker variables\n");
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  const int restarts = testing::FaultFull() ? 3 : 1;
  testing::PgTestSchema schema(*url);
  const std::string prefix = testing::UniqueName("fault");
  const std::string config =
      Configure(schema, "[[mqtt]]\nname = \"broker\"\nurl = \"" + broker + "\"\nclient_id = \"" +
                            testing::UniqueName("fieldsync-fault") + "\"\ntopics = [\"" + prefix +
                            "/{device}\"]\nformat = \"json\"\nqos = 1\nack = \"durable\"\n");
  testing::AgentProcess agent(config, dir.File("agent.log"));
  CHECK_TEXT(agent.WaitForHttpPort(10s) != 0, agent.Log().c_str());
  CHECK_TEXT(
      testing::WaitFor([&] { return testing::LiveConnected(setup.http_port, "broker"); }, 15s),
      agent.Log().c_str());

  BatchPublisher publisher(broker, prefix + "/m1", testing::NowMs() - 3600'000LL);
  for (int r = 0; r < restarts; ++r) {
    std::this_thread::sleep_for(3s);
    CHECK(testing::RunScript(*stop));
    CHECK(
        testing::WaitFor([&] { return !testing::LiveConnected(setup.http_port, "broker"); }, 10s));
    std::this_thread::sleep_for(2s);
    CHECK(testing::RunScript(*start));
    CHECK_TEXT(
        testing::WaitFor([&] { return testing::LiveConnected(setup.http_port, "broker"); }, 30s),
        agent.Log().c_str());
  }
  std::this_thread::sleep_for(2s);
  publisher.Finish();
  const long long acknowledged = publisher.published();
  CHECK_TEXT(testing::WaitFor([&] { return RemoteOf(schema, "m1").first >= acknowledged; }, 60s),
             agent.Log().c_str());
  std::this_thread::sleep_for(1500ms);  // a cycle more: nothing may arrive twice
  const long long stored = testing::LiveInputReadings(setup.http_port, "broker");
  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(10s), agent.Log().c_str());

  auto [landed, duplicates] = RemoteOf(schema, "m1");
  LONGS_EQUAL(acknowledged, landed);
  LONGS_EQUAL(0, duplicates);
  auto range = schema.Exec("SELECT min(value), max(value) FROM " + schema.name() + ".readings");
  LONGS_EQUAL(0, std::stoll(std::string(range.Value(0, 0))));
  LONGS_EQUAL(acknowledged - 1, std::stoll(std::string(range.Value(0, 1))));
  // Redeliveries after a restart are absorbed as duplicates, never stored twice.
  LONGS_EQUAL(acknowledged, stored);
  const std::string integrity = testing::IntegrityCheck(setup.state_dir);
  STRCMP_EQUAL("ok", integrity.c_str());

  testing::ScenarioTally tally;
  tally.generated = acknowledged;
  tally.acknowledged = acknowledged;
  tally.stored_local = stored;
  tally.landed_remote = landed;
  tally.duplicates = duplicates;
  tally.integrity = integrity;
  tally.extra = {{"broker_restarts", std::to_string(restarts)},
                 {"batches_republished", std::to_string(publisher.republished())}};
  testing::PrintPassLine("broker-restart", tally, started);
}

TEST(IngestInterruption, PtyUnplugAndReplugWhileSendingLosesNothingAcknowledged) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  const auto started = std::chrono::steady_clock::now();
  const int unplugs = testing::FaultFull() ? 6 : 2;
  testing::PgTestSchema schema(*url);
  testing::PtyPair pty(dir.File("ttyACM0"));
  const std::string config =
      Configure(schema, "[[serial]]\nname = \"arduino\"\nport = \"" + pty.link() +
                            "\"\nformat = \"json\"\nack = true\n");
  testing::AgentProcess agent(config, dir.File("agent.log"));
  CHECK_TEXT(agent.WaitForHttpPort(10s) != 0, agent.Log().c_str());
  CHECK_TEXT(
      testing::WaitFor([&] { return testing::LiveConnected(setup.http_port, "arduino"); }, 10s),
      agent.Log().c_str());

  testing::SerialSender sender(pty, testing::NowMs() - 3600'000LL);
  sender.SendFor(2s);
  for (int u = 0; u < unplugs; ++u) {
    pty.Unplug();
    sender.ForgetPartialAck();
    CHECK(
        testing::WaitFor([&] { return !testing::LiveConnected(setup.http_port, "arduino"); }, 10s));
    std::this_thread::sleep_for(1500ms);
    pty.Plug();
    // Back within the input's retry interval (1 s, backing off): frames sent now are read and
    // acknowledged once it reopened the port.
    const std::size_t acked_before = sender.acked().size();
    sender.SendFor(2s);
    CHECK_TEXT(testing::WaitFor(
                   [&] {
                     sender.DrainAcks(50ms);
                     return sender.acked().size() > acked_before;
                   },
                   30s),
               agent.Log().c_str());
  }
  sender.SendFor(1s);
  sender.DrainAcks(1s);
  const long long acknowledged = static_cast<long long>(sender.acked().size());
  CHECK_TEXT(testing::WaitFor([&] { return RemoteOf(schema, "uno").first >= acknowledged; }, 60s),
             agent.Log().c_str());
  std::this_thread::sleep_for(1500ms);
  const long long stored = testing::LiveInputReadings(setup.http_port, "arduino");
  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(10s), agent.Log().c_str());

  // Every acknowledged reading landed once; what else landed was sent (a frame read just before
  // an unplug is stored while its ACK is lost with the port).
  const std::multiset<std::string> remote = testing::RemoteReadings(schema);
  const std::set<std::string> distinct(remote.begin(), remote.end());
  for (const std::string& key : sender.AckedKeys())
    CHECK_TEXT(distinct.count(key) == 1, key.c_str());
  long long unknown = 0;
  for (const std::string& key : distinct) {
    const unsigned seq = static_cast<unsigned>(std::stoul(key.substr(key.rfind('|') + 1)));
    if (seq >= sender.sent() || key != testing::ReadingKey("uno", "t", sender.Ts(seq), seq))
      ++unknown;
  }
  LONGS_EQUAL(0, unknown);
  LONGS_EQUAL(stored, static_cast<long long>(remote.size()));
  const std::string integrity = testing::IntegrityCheck(setup.state_dir);
  STRCMP_EQUAL("ok", integrity.c_str());

  testing::ScenarioTally tally;
  tally.generated = sender.sent();
  tally.acknowledged = acknowledged;
  tally.stored_local = stored;
  tally.landed_remote = static_cast<long long>(remote.size());
  tally.duplicates = static_cast<long long>(remote.size() - distinct.size());
  tally.integrity = integrity;
  tally.extra = {{"unplugs", std::to_string(unplugs)}};
  testing::PrintPassLine("pty-replug", tally, started);
}
