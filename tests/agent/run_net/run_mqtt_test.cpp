// `fieldsync run` with an [[mqtt]] input against the real harness broker, end to end: the binary,
// mosquitto_pub in its own process, the store read back after the agent exited.
// Needs FIELDSYNC_TEST_MQTT_URL (tests/support/services.sh); the broker restart test also
// FIELDSYNC_TEST_MQTT_STOP / FIELDSYNC_TEST_MQTT_START.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "tests/agent/run_net/agent_process.hpp"
#include "tests/support/temp_dir.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

#include <CppUTest/MemoryLeakWarningPlugin.h>  // after TestHarness.h, which it needs

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

// The client and publisher threads of these tests allocate in one test and free in the next (and
// std::regex caches), which CppUTest's per-test leak accounting reports as leaks. Its new/delete
// overloads are turned off for this binary (all of its tests) before anything is allocated.
const bool kLeakOverloadsOff = [] {
  MemoryLeakWarningPlugin::turnOffNewDeleteOverloads();
  return true;
}();

// 2025-01-01T00:00:00Z in ms; message i carries ts = base + i ms, so a redelivered message has
// the same key and cannot be stored twice.
constexpr long long kBaseMs = 1735689600000LL;

std::string Message(long long i) {
  return "{\"ts\":" + std::to_string(kBaseMs + i) + ",\"v\":" + std::to_string(i) + "}";
}

std::string Messages(long long from, long long to) {
  std::string lines;
  for (long long i = from; i < to; ++i) lines += Message(i) + "\n";
  return lines;
}

struct MqttSetup {
  testing::TempDir dir;
  std::string url = testing::BrokerUrl();
  std::string client_id = testing::UniqueName("fieldsync-run");
  std::string prefix = testing::UniqueName("run");
  std::string topic = prefix + "/frames/uno";

  std::string WriteConfig(const std::string& ack) const {
    const std::string path = dir.File("fieldsync.toml");
    testing::WriteFile(
        path,
        "gateway = \"test-gw\"\nstate_dir = \"" + dir.File("state") +
            "\"\n[http]\nlisten = \"127.0.0.1:" + std::to_string(testing::FreeLoopbackPort()) +
            "\"\n[[mqtt]]\nname = "
            "\"broker\"\nurl = \"" +
            url + "\"\nclient_id = \"" + client_id + "\"\ntopics = [\"" + prefix +
            "/frames/{device}\"]\nformat = \"json\"\nqos = 1\nack = \"" + ack + "\"\n");
    return path;
  }
  // A second input "second" on `prefix`/more/{device}, to append to the config.
  std::string SecondInput() const {
    return "[[mqtt]]\nname = \"second\"\nurl = \"" + url + "\"\nclient_id = \"" + client_id +
           "-2\"\ntopics = [\"" + prefix + "/more/{device}\"]\nqos = 1\nack = \"received\"\n";
  }
  std::string Log(const std::string& name) const { return dir.File(name + ".log"); }
};

// Values stored, with how many times each.
std::map<long long, int> StoredValues(const std::string& state_dir) {
  std::map<long long, int> values;
  for (const auto& r : testing::StoredReadings(state_dir))
    ++values[static_cast<long long>(r.value)];
  return values;
}

// Starts the agent and waits until its input is connected (the persistent session exists).
bool StartConnected(testing::AgentProcess& agent, std::uint16_t& port) {
  port = agent.WaitForHttpPort(10s);
  if (port == 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (testing::LiveConnected(port, "broker")) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

bool Skip(const MqttSetup& s) {
  if (!s.url.empty()) return false;
  std::printf("\nSKIPPED: FIELDSYNC_TEST_MQTT_URL is not set (start tests/support/services.sh)\n");
  return true;
}

}  // namespace

TEST_GROUP(RunMqtt) { MqttSetup setup; };

TEST(RunMqtt, TenThousandMessagesPublishedWhileTheAgentIsStoppedAreAllStoredAfterItStarts) {
  if (Skip(setup)) return;
  const std::string config = setup.WriteConfig("durable");
  {
    testing::AgentProcess first(config, setup.Log("first"));
    std::uint16_t port = 0;
    CHECK_TEXT(StartConnected(first, port), first.Log().c_str());
    first.Signal(SIGTERM);
    LONGS_EQUAL_TEXT(0, first.Wait(5s), first.Log().c_str());
  }
  constexpr long long kCount = 10000;
  CHECK(testing::PublishLines(setup.url, setup.topic, Messages(0, kCount)));

  testing::AgentProcess second(config, setup.Log("second"));
  const auto started = std::chrono::steady_clock::now();
  std::uint16_t port = second.WaitForHttpPort(10s);
  CHECK_TEXT(port != 0, second.Log().c_str());
  LONGS_EQUAL_TEXT(kCount, testing::WaitForPending(port, kCount, 120s), second.Log().c_str());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("\n10,000 queued messages drained (ack = durable) in %.1f s: %.0f readings/s\n",
              seconds, static_cast<double>(kCount) / seconds);
  second.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, second.Wait(5s), second.Log().c_str());

  auto values = StoredValues(setup.dir.File("state"));
  LONGS_EQUAL(kCount, values.size());
  for (const auto& [value, times] : values) LONGS_EQUAL(1, times);
}

TEST(RunMqtt, DurableAckSurvivesTwentySigkillsDuringAStreamWithEveryMessageStoredExactlyOnce) {
  if (Skip(setup)) return;
  const std::string config = setup.WriteConfig("durable");
  {
    testing::AgentProcess first(config, setup.Log("session"));
    std::uint16_t port = 0;
    CHECK_TEXT(StartConnected(first, port), first.Log().c_str());
    first.Kill();
  }

  // About 150 messages/s for the whole kill loop, from another process.
  constexpr long long kCount = 4000;
  std::atomic<bool> published{false};
  std::thread publisher([&] {
    testing::LinePublisher pub(setup.url, setup.topic);
    for (long long i = 0; i < kCount; ++i) {
      pub.Write(Message(i));
      if (i % 8 == 7) std::this_thread::sleep_for(50ms);
    }
    published = pub.Close();
  });

  std::mt19937 random(static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> uptime_ms(150, 1200);
  int kills = 0;
  int killed_while_connected = 0;
  for (; kills < 20; ++kills) {
    testing::AgentProcess agent(config, setup.Log("kill" + std::to_string(kills)));
    std::this_thread::sleep_for(std::chrono::milliseconds(uptime_ms(random)));
    agent.Kill();
    if (agent.Log().find("connected to") != std::string::npos) ++killed_while_connected;
  }
  publisher.join();
  CHECK(published);
  LONGS_EQUAL(20, kills);
  // The kills must land in the stream, not before the input was consuming.
  CHECK_TEXT(killed_while_connected >= 15, std::to_string(killed_while_connected).c_str());

  testing::AgentProcess last(config, setup.Log("last"));
  std::uint16_t port = last.WaitForHttpPort(10s);
  CHECK_TEXT(port != 0, last.Log().c_str());
  LONGS_EQUAL_TEXT(kCount, testing::WaitForPending(port, kCount, 120s), last.Log().c_str());
  std::this_thread::sleep_for(500ms);  // nothing beyond kCount may arrive
  last.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, last.Wait(5s), last.Log().c_str());

  auto values = StoredValues(setup.dir.File("state"));
  LONGS_EQUAL(kCount, values.size());
  for (const auto& [value, times] : values) {
    LONGS_EQUAL_TEXT(1, times, ("value " + std::to_string(value)).c_str());
  }
  CHECK(values.begin()->first == 0 && values.rbegin()->first == kCount - 1);
}

TEST(RunMqtt, SigtermDuringADurableStreamExitsWithinFiveSecondsAndLosesNothing) {
  if (Skip(setup)) return;
  const std::string config = setup.WriteConfig("durable");
  {
    testing::AgentProcess session(config, setup.Log("session"));
    std::uint16_t port = 0;
    CHECK_TEXT(StartConnected(session, port), session.Log().c_str());
    session.Kill();
  }
  // Five stops at random moments of one stream: a stop often meets a message whose commit is in
  // progress, the case that must neither hang nor acknowledge it.
  constexpr long long kCount = 2000;
  std::thread publisher([&] {
    testing::LinePublisher pub(setup.url, setup.topic);
    for (long long i = 0; i < kCount; ++i) {
      pub.Write(Message(i));
      if (i % 64 == 63) std::this_thread::sleep_for(100ms);  // bursts: messages always queued
    }
  });
  std::mt19937 random(static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> uptime_ms(300, 1200);
  for (int round = 0; round < 5; ++round) {
    testing::AgentProcess agent(config, setup.Log("term" + std::to_string(round)));
    std::this_thread::sleep_for(std::chrono::milliseconds(uptime_ms(random)));
    const auto termed_at = std::chrono::steady_clock::now();
    agent.Signal(SIGTERM);
    LONGS_EQUAL_TEXT(0, agent.Wait(5s), agent.Log().c_str());
    CHECK(std::chrono::steady_clock::now() - termed_at < 5s);
  }
  publisher.join();
  testing::AgentProcess again(config, setup.Log("again"));
  std::uint16_t port = again.WaitForHttpPort(10s);
  LONGS_EQUAL_TEXT(kCount, testing::WaitForPending(port, kCount, 60s), again.Log().c_str());
  again.Signal(SIGTERM);
  LONGS_EQUAL(0, again.Wait(5s));
  auto values = StoredValues(setup.dir.File("state"));
  LONGS_EQUAL(kCount, values.size());
  for (const auto& [value, times] : values) LONGS_EQUAL(1, times);
}

TEST(RunMqtt, AfterABrokerRestartTheInputReconnectsAndLaterMessagesArrive) {
  if (Skip(setup)) return;
  const char* stop = std::getenv("FIELDSYNC_TEST_MQTT_STOP");
  const char* start = std::getenv("FIELDSYNC_TEST_MQTT_START");
  if (stop == nullptr || start == nullptr) {
    std::printf("\nSKIPPED: FIELDSYNC_TEST_MQTT_STOP/START are not set\n");
    return;
  }
  const std::string config = setup.WriteConfig("durable");
  testing::AgentProcess agent(config, setup.Log("agent"));
  std::uint16_t port = 0;
  CHECK_TEXT(StartConnected(agent, port), agent.Log().c_str());
  CHECK(testing::PublishLines(setup.url, setup.topic, Messages(0, 100)));
  LONGS_EQUAL_TEXT(100, testing::WaitForPending(port, 100, 30s), agent.Log().c_str());

  CHECK(testing::RunCommand(stop));
  bool seen_down = false;
  for (int i = 0; i < 100 && !seen_down; ++i) {
    seen_down = !testing::LiveConnected(port, "broker");
    if (!seen_down) std::this_thread::sleep_for(100ms);
  }
  CHECK_TEXT(seen_down, "the status never showed the input disconnected");
  CHECK(testing::RunCommand(start));

  CHECK(testing::PublishLines(setup.url, setup.topic, Messages(100, 200)));
  LONGS_EQUAL_TEXT(200, testing::WaitForPending(port, 200, 60s), agent.Log().c_str());
  CHECK(testing::LiveConnected(port, "broker"));
  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(5s), agent.Log().c_str());
  LONGS_EQUAL(200, StoredValues(setup.dir.File("state")).size());
}

TEST(RunMqtt, SighupAddsAnInputAndLeavesTheUnchangedOneConnected) {
  if (Skip(setup)) return;
  const std::string config = setup.WriteConfig("durable");
  testing::AgentProcess agent(config, setup.Log("agent"));
  std::uint16_t port = 0;
  CHECK_TEXT(StartConnected(agent, port), agent.Log().c_str());
  CHECK(testing::PublishLines(setup.url, setup.topic, Messages(0, 50)));
  LONGS_EQUAL_TEXT(50, testing::WaitForPending(port, 50, 30s), agent.Log().c_str());

  // The config is rewritten with the same HTTP port (WriteConfig picks a new one: keep the old).
  std::string text = testing::ReadFile(config);
  testing::WriteFile(config, text + setup.SecondInput());
  agent.Signal(SIGHUP);
  bool second_up = false;
  for (int i = 0; i < 100 && !second_up; ++i) {
    std::this_thread::sleep_for(100ms);
    second_up = testing::LiveConnected(port, "second");
  }
  CHECK_TEXT(second_up, agent.Log().c_str());
  CHECK(testing::PublishLines(setup.url, setup.prefix + "/more/uno", Messages(50, 100)));
  CHECK(testing::PublishLines(setup.url, setup.topic, Messages(100, 150)));
  LONGS_EQUAL_TEXT(150, testing::WaitForPending(port, 150, 30s), agent.Log().c_str());
  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(5s));
  const std::string log = agent.Log();
  CHECK_TEXT(log.find("input broker: stopping") == std::string::npos, log.c_str());
  CHECK_TEXT(log.find("configuration reloaded") != std::string::npos, log.c_str());
  LONGS_EQUAL(150, StoredValues(setup.dir.File("state")).size());
}
