// Garbage: random bytes on the serial line (a pseudo-terminal) and random payloads on MQTT, into
// one running agent. It must not crash, its resident memory may grow by less than 2 MiB from a
// warmed-up start to after the garbage, every garbage MQTT message is counted as rejected, and
// valid frames sent after the garbage are still accepted; they land remotely with
// `fieldsync sync` afterwards. Quick: 10 MB on each; FIELDSYNC_FAULT_FULL=1: 100 MB.
#include <signal.h>

#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/agent/run_net/agent_process.hpp"
#include "tests/drivers/serial/pty_pair.hpp"
#include "tests/fault/fault_env.hpp"
#include "tests/fault/fault_scenario.hpp"
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

constexpr long long kMiB = 1024 * 1024;

// Frames and rejections of input `name` so far, from the live status.
struct InputCounts {
  long long readings = -1;
  long long rejected = -1;
};

InputCounts Counts(std::uint16_t port, const std::string& name) {
  InputCounts counts;
  auto status = testing::LiveStatus(port);
  if (!status) return counts;
  for (const auto& input : status->at("inputs")) {
    if (input.at("name") != name) continue;
    counts.readings = input.at("readings").get<long long>();
    counts.rejected = 0;
    for (const auto& [reason, n] : input.at("rejected").items())
      counts.rejected += n.get<long long>();
  }
  return counts;
}

// Random bytes, as a broken cable or a wrong baud rate delivers them.
std::string RandomBytes(std::mt19937_64& rng, std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t word = rng();
    for (std::size_t b = 0; b < 8 && i + b < size; ++b)
      bytes[i + b] = static_cast<char>((word >> (8 * b)) & 0xff);
  }
  return bytes;
}

// About `size` bytes of random MQTT payloads (1 to 1024 bytes each, no newline or NUL so that
// mosquitto_pub -l sends each as one message), one per line; `messages` gets their number.
std::string RandomPayloads(std::mt19937_64& rng, std::size_t size, long long& messages) {
  std::string lines = RandomBytes(rng, size);
  std::uniform_int_distribution<std::size_t> length(1, 1024);
  std::size_t next = length(rng);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] == '\0' || lines[i] == '\n' || lines[i] == '\r') lines[i] = ' ';
    if (i == next || i + 1 == lines.size()) {
      lines[i] = '\n';
      ++messages;
      next = i + 1 + length(rng);
    }
  }
  return lines;
}

std::string ValidSerialFrames(long long first, long long count, long long base_ms) {
  std::string frames = "\n";  // ends whatever line the garbage left open
  for (long long i = first; i < first + count; ++i)
    frames += testing::JsonFrame("serial", base_ms + i, i) + "\n";
  return frames;
}

std::string ValidMessages(long long first, long long count, long long base_ms) {
  std::string lines;
  for (long long i = first; i < first + count; ++i)
    lines += "{\"ts\":" + std::to_string(base_ms + i) + ",\"t\":" + std::to_string(i) + "}\n";
  return lines;
}

}  // namespace

TEST_GROUP(Garbage) { testing::TempDir dir; };

TEST(Garbage, RandomBytesOnSerialAndMqttNeitherCrashNorGrowMemoryNorBlockValidFrames) {
  auto url = testing::TestPgUrl();
  const std::string broker = testing::BrokerUrl();
  if (!url || broker.empty()) {
    std::printf("\nSKIPPED: needs FIELDSYNC_TEST_PGURL and FIELDSYNC_TEST_MQTT_URL\n");
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  const long long garbage_bytes = (testing::FaultFull() ? 100 : 10) * kMiB;
  testing::PgTestSchema schema(*url);
  testing::PtyPair pty(dir.File("ttyUSB0"));
  const std::string prefix = testing::UniqueName("garbage");
  const std::string topic = prefix + "/mqtt";
  testing::FaultAgentConfig setup;
  setup.state_dir = dir.File("state");
  setup.http_port = testing::FreeLoopbackPort();
  // The running agent is local only, so what it holds stays in the store; the same settings
  // with sync upload it with `fieldsync sync` at the end.
  testing::FaultAgentConfig with_sync = setup;
  with_sync.sync_url = schema.url();
  with_sync.sync_schema = schema.name();
  setup.extra = "[[serial]]\nname = \"line\"\nport = \"" + pty.link() +
                "\"\nformat = \"json\"\n[[mqtt]]\nname = \"broker\"\nurl = \"" + broker +
                "\"\nclient_id = \"" + testing::UniqueName("fieldsync-garbage") +
                "\"\ntopics = [\"" + prefix + "/{device}\"]\nformat = \"json\"\nqos = 1\n";
  const std::string config = testing::WriteFaultConfig(dir, setup);
  const std::string sync_config = testing::WriteFaultConfig(dir, with_sync, "sync.toml");
  LONGS_EQUAL(0, testing::RunFieldsync(sync_config, "remote migrate", dir.File("migrate.log")));

  testing::AgentProcess agent(config, dir.File("agent.log"));
  const std::uint16_t port = setup.http_port;
  CHECK_TEXT(agent.WaitForHttpPort(10s) != 0, agent.Log().c_str());
  CHECK_TEXT(testing::WaitFor(
                 [&] {
                   return testing::LiveConnected(port, "line") &&
                          testing::LiveConnected(port, "broker");
                 },
                 15s),
             agent.Log().c_str());

  std::mt19937_64 rng(std::random_device{}());
  const long long base_ms = testing::NowMs() - 3600'000LL;
  long long valid = 0;         // valid frames per input, sent so far
  long long mqtt_garbage = 0;  // garbage messages published
  // Sends `bytes` of garbage on each input, then `count` valid frames on each, and waits until
  // the agent has read them all (the valid frames come last on both).
  auto round = [&](long long bytes, long long count) {
    for (long long done = 0; done < bytes; done += kMiB) {
      pty.Write(RandomBytes(rng, static_cast<std::size_t>(kMiB)));
      long long messages = 0;
      const std::string payloads = RandomPayloads(rng, static_cast<std::size_t>(kMiB), messages);
      CHECK(testing::PublishLines(broker, topic, payloads));
      mqtt_garbage += messages;
    }
    pty.Write(ValidSerialFrames(valid, count, base_ms));
    CHECK(testing::PublishLines(broker, topic, ValidMessages(valid, count, base_ms)));
    valid += count;
    CHECK_TEXT(testing::WaitFor(
                   [&] {
                     return Counts(port, "line").readings == valid &&
                            Counts(port, "broker").readings == valid;
                   },
                   120s),
               agent.Log().c_str());
  };

  // Warm-up: every code path has run and every buffer has its working size.
  round(2 * kMiB, 200);
  std::this_thread::sleep_for(1s);
  const long long rss_before = testing::VmRssKib(agent.pid());
  const long long garbage_before = mqtt_garbage;
  const long long rejected_before = Counts(port, "broker").rejected;

  round(garbage_bytes, 200);
  std::this_thread::sleep_for(1s);
  const long long rss_after = testing::VmRssKib(agent.pid());
  CHECK(rss_before > 0 && rss_after > 0);
  const long long growth = rss_after - rss_before;
  CHECK_TEXT(growth < 2048, ("VmRSS grew by " + std::to_string(growth) + " KiB").c_str());
  // Every garbage message was seen and counted; none was taken for a reading.
  LONGS_EQUAL(mqtt_garbage - garbage_before, Counts(port, "broker").rejected - rejected_before);
  const long long serial_rejected = Counts(port, "line").rejected;
  CHECK(serial_rejected > 0);

  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(10s), agent.Log().c_str());
  const std::string integrity = testing::IntegrityCheck(setup.state_dir);
  STRCMP_EQUAL("ok", integrity.c_str());
  const long long stored = testing::LocalPending(setup.state_dir);
  LONGS_EQUAL(2 * valid, stored);
  LONGS_EQUAL_TEXT(0, testing::RunFieldsync(sync_config, "sync", dir.File("sync.log")),
                   testing::ReadFile(dir.File("sync.log")).c_str());
  auto check = schema.Exec("SELECT count(*), count(DISTINCT (device, value)) FROM " +
                           schema.name() + ".readings");
  const long long landed = std::stoll(std::string(check.Value(0, 0)));
  const long long distinct = std::stoll(std::string(check.Value(0, 1)));
  LONGS_EQUAL(2 * valid, landed);

  testing::ScenarioTally tally;
  tally.generated = 2 * valid;
  tally.acknowledged = 2 * valid;
  tally.stored_local = stored;
  tally.landed_remote = landed;
  tally.duplicates = landed - distinct;
  tally.integrity = integrity;
  tally.extra = {{"garbage_bytes_serial", std::to_string(garbage_bytes + 2 * kMiB)},
                 {"garbage_bytes_mqtt", std::to_string(garbage_bytes + 2 * kMiB)},
                 {"garbage_messages", std::to_string(mqtt_garbage)},
                 {"rejected_serial", std::to_string(serial_rejected)},
                 {"rss_before_kib", std::to_string(rss_before)},
                 {"rss_after_kib", std::to_string(rss_after)},
                 {"rss_growth_kib", std::to_string(growth)}};
  testing::PrintPassLine("garbage", tally, started);
}
