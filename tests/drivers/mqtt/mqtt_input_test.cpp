// MqttInput against a real mosquitto: topic templates, the offline backlog of a persistent
// session, and ack = "durable" withholding the PUBACK while the store refuses.
// Needs FIELDSYNC_TEST_MQTT_URL (a broker with persistence on and max_queued_messages raised).
#include "drivers/mqtt_input.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/drivers/mqtt/loop_thread.hpp"
#include "tests/drivers/mqtt/store_sink.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest last: its leak detector redefines operator new.
#include <CppUTest/TestHarness.h>

#include <CppUTest/MemoryLeakWarningPlugin.h>  // after TestHarness.h, which it needs

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

// Paho's threads allocate in one test and free in a later one (tokens, messages, per-library
// state), which CppUTest's per-test leak accounting reports as leaks. Its new/delete overloads
// are turned off for this binary before anything is allocated.
const bool kLeakOverloadsOff = [] {
  MemoryLeakWarningPlugin::turnOffNewDeleteOverloads();
  return true;
}();

std::string BrokerUrl() {
  const char* url = std::getenv("FIELDSYNC_TEST_MQTT_URL");
  return url == nullptr ? std::string() : std::string(url);
}

// A client id and topic prefix no other test run shares on the same broker.
std::string Unique(const std::string& what) {
  static int counter = 0;
  return what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000) +
         "-" + std::to_string(++counter);
}

// Publishes with mosquitto_pub, in its own process: a held message callback blocks every Paho
// client of this process (they share one receive thread), an in-process publisher included.
class Publisher {
 public:
  explicit Publisher(const std::string& url) {
    const std::string hostport = url.substr(url.find("://") + 3);
    host_ = hostport.substr(0, hostport.rfind(':'));
    port_ = hostport.substr(hostport.rfind(':') + 1);
  }
  void Publish(const std::string& topic, const std::string& payload) {
    // Evaluated once: CppUTest's macros repeat their arguments when they report a failure.
    const int rc = std::system((Base(topic) + " -m '" + payload + "'").c_str());
    CHECK_EQUAL(0, rc);
  }
  // One message per line of `lines`, all to `topic`.
  void PublishLines(const std::string& topic, const std::string& lines) {
    FILE* pipe = ::popen((Base(topic) + " -l").c_str(), "w");
    CHECK(pipe != nullptr);
    std::fwrite(lines.data(), 1, lines.size(), pipe);
    const int rc = ::pclose(pipe);
    CHECK_EQUAL(0, rc);
  }

 private:
  std::string Base(const std::string& topic) const {
    return "mosquitto_pub -h " + host_ + " -p " + port_ + " -q 1 -t '" + topic + "'";
  }
  std::string host_;
  std::string port_;
};

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// One store, one sink and one loop per test.
struct Harness {
  testing::TempDir dir;
  core::FakeClock clock;
  std::map<std::string, core::MetricSpec> metrics;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<testing::StoreSink> sink;
  testing::LoopThread loop;

  Harness() {
    auto opened = store::Store::Open(dir.path(), store::StoreOptions{}, clock);
    if (!opened) FAIL(opened.error().message.c_str());
    store = std::move(*opened);
    sink = std::make_unique<testing::StoreSink>(*store);
  }
  ~Harness() {
    // The store is only touched on the loop; close it there too.
    loop.Call([this] {
      sink.reset();
      store.reset();
      return 0;
    });
  }

  std::unique_ptr<drivers::MqttInput> Input(drivers::MqttSpec spec) {
    drivers::FrameDecoder decoder(spec.frame, metrics, clock, false);
    drivers::MqttInputOptions options;
    options.min_retry = 100ms;
    options.max_retry = 1000ms;
    auto input =
        drivers::MqttInput::Create(std::move(spec), std::move(decoder), loop.io(), *sink, options);
    if (!input) FAIL(input.error().message.c_str());
    return std::move(*input);
  }

  std::vector<core::Reading> Stored() {
    return loop.Call([this] { return testing::AllPending(*store); });
  }
  std::size_t StoredCount() { return Stored().size(); }
};

drivers::MqttSpec Spec(const std::string& prefix,
                       drivers::MqttAck ack = drivers::MqttAck::kDurable) {
  drivers::MqttSpec spec;
  spec.name = "broker";
  spec.url = BrokerUrl();
  spec.client_id = Unique("fieldsync");
  spec.topics = {prefix + "/sensors/{device}/{metric}", prefix + "/frames/{device}"};
  spec.qos = 1;
  spec.ack = ack;
  return spec;
}

const core::Reading* Find(const std::vector<core::Reading>& readings, const std::string& device,
                          const std::string& metric) {
  for (const core::Reading& r : readings) {
    if (r.device == device && r.metric == metric) return &r;
  }
  return nullptr;
}

}  // namespace

// clang-format off
TEST_GROUP(MqttInput) {
  void setup() override {
    if (BrokerUrl().empty()) {
      std::fprintf(stderr, "\nSKIPPED: FIELDSYNC_TEST_MQTT_URL is not set (no broker)\n");
      TEST_EXIT;
    }
  }
};
// clang-format on

TEST(MqttInput, CreateRefusesBadSettingsWithoutConnecting) {
  Harness h;
  drivers::MqttSpec spec = Spec("x");
  spec.url = "http://127.0.0.1:1883";
  drivers::FrameDecoder decoder(spec.frame, h.metrics, h.clock, false);
  auto bad_url = drivers::MqttInput::Create(spec, decoder, h.loop.io(), *h.sink);
  CHECK_FALSE(bad_url.has_value());
  STRCMP_CONTAINS("tcp:// or ssl://", bad_url.error().message.c_str());

  spec = Spec("x");
  spec.ca_file = "/nonexistent/ca.pem";
  auto tls_on_tcp = drivers::MqttInput::Create(spec, decoder, h.loop.io(), *h.sink);
  CHECK_FALSE(tls_on_tcp.has_value());

  spec = Spec("x");
  spec.topics = {"a/{device}x"};
  CHECK_FALSE(drivers::MqttInput::Create(spec, decoder, h.loop.io(), *h.sink).has_value());
}

TEST(MqttInput, TemplatesCaptureDeviceAndMetricFromBareAndJsonPayloads) {
  Harness h;
  const std::string prefix = Unique("t");
  auto input = h.Input(Spec(prefix));
  CHECK(input->Start().has_value());
  CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->connected("broker"); }); }, 10s));
  std::this_thread::sleep_for(300ms);  // let the subscriptions settle

  Publisher pub(BrokerUrl());
  pub.Publish(prefix + "/sensors/dev1/temperature", "21.5");
  pub.Publish(prefix + "/sensors/dev1/humidity", R"({"value": 40, "ts": 1700000000})");
  pub.Publish(prefix + "/frames/dev2", R"({"temperature": 1.5, "pressure": 1013})");
  pub.Publish(prefix + "/sensors/dev1/temperature", "not-a-number");
  CHECK(WaitFor([&] { return h.StoredCount() == 4; }, 10s));
  CHECK(WaitFor(
      [&] {
        return h.loop.Call([&] {
          return h.sink->rejected(core::RejectReason::kParse) +
                 h.sink->rejected(core::RejectReason::kBadValue);
        }) == 1;
      },
      5s));

  std::vector<core::Reading> stored = h.Stored();
  const core::Reading* temperature = Find(stored, "dev1", "temperature");
  CHECK(temperature != nullptr);
  DOUBLES_EQUAL(21.5, temperature->value, 1e-9);
  const core::Reading* humidity = Find(stored, "dev1", "humidity");
  CHECK(humidity != nullptr);
  CHECK_EQUAL(1700000000LL * 1000000LL, humidity->ts);
  CHECK(humidity->ts_source == core::TsSource::kDevice);
  const core::Reading* pressure = Find(stored, "dev2", "pressure");
  CHECK(pressure != nullptr);
  DOUBLES_EQUAL(1013.0, pressure->value, 1e-9);
  CHECK(h.sink->durable_now_calls() >= 3);  // ack = "durable" asks for a commit per message
  input->Stop();
  CHECK_FALSE(h.loop.Call([&] { return h.sink->connected("broker"); }));
}

TEST(MqttInput, TenThousandMessagesPublishedWhileStoppedAreStoredAfterStart) {
  Harness h;
  const std::string prefix = Unique("backlog");
  drivers::MqttSpec spec = Spec(prefix);
  {
    // First run creates the persistent session and its subscriptions on the broker.
    auto input = h.Input(spec);
    CHECK(input->Start().has_value());
    CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->connected("broker"); }); }, 10s));
    std::this_thread::sleep_for(300ms);
    input->Stop();
  }
  constexpr int kMessages = 10000;
  {
    Publisher pub(BrokerUrl());
    for (int device = 0; device < 10; ++device) {
      std::string lines;
      for (int i = device; i < kMessages; i += 10) {
        lines += R"({"value": )" + std::to_string(i) + R"(, "ts": )" +
                 std::to_string(1700000000 + i / 10) + "}\n";
      }
      pub.PublishLines(prefix + "/sensors/dev" + std::to_string(device) + "/power", lines);
    }
  }
  CHECK_EQUAL(0u, h.StoredCount());
  auto input = h.Input(spec);  // same client_id: the broker resumes the session
  CHECK(input->Start().has_value());
  CHECK(WaitFor([&] { return h.StoredCount() >= static_cast<std::size_t>(kMessages); }, 180s));
  input->Stop();
  std::vector<core::Reading> stored = h.Stored();
  CHECK_EQUAL(static_cast<std::size_t>(kMessages), stored.size());
  std::set<long long> values;
  for (const core::Reading& r : stored) values.insert(static_cast<long long>(r.value));
  CHECK_EQUAL(static_cast<std::size_t>(kMessages), values.size());
}

TEST(MqttInput, DurableAckIsWithheldWhileTheStoreRefuses) {
  Harness h;
  const std::string prefix = Unique("full");
  drivers::MqttSpec spec = Spec(prefix);
  auto input = h.Input(spec);
  CHECK(input->Start().has_value());
  CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->connected("broker"); }); }, 10s));
  std::this_thread::sleep_for(300ms);

  // Refused twice, then accepted: the callback retries and the message is stored once.
  h.loop.Call([&] {
    h.sink->RefuseNext(2);
    return 0;
  });
  Publisher pub(BrokerUrl());
  pub.Publish(prefix + "/sensors/dev1/temperature", R"({"value": 1, "ts": 1700000001})");
  CHECK(WaitFor([&] { return h.StoredCount() == 1; }, 10s));
  CHECK_EQUAL(2, h.loop.Call([&] { return h.sink->refused(); }));

  // Refused for a while: the callback holds the message, so the broker delivers nothing more to
  // this session (it keeps the later messages queued) and nothing is lost once the store is back.
  h.loop.Call([&] {
    h.sink->RefuseNext(5);
    return 0;
  });
  pub.Publish(prefix + "/sensors/dev1/temperature", R"({"value": 2, "ts": 1700000002})");
  CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->refused(); }) >= 4; }, 10s));
  pub.Publish(prefix + "/sensors/dev1/temperature", R"({"value": 3, "ts": 1700000003})");
  pub.Publish(prefix + "/sensors/dev1/temperature", R"({"value": 4, "ts": 1700000004})");
  CHECK_EQUAL(1u, h.StoredCount());  // nothing behind the held message was consumed
  CHECK(WaitFor([&] { return h.StoredCount() == 4; }, 15s));
  CHECK_EQUAL(7, h.loop.Call([&] { return h.sink->refused(); }));
  input->Stop();
}

TEST(MqttInput, ReceivedAckHandsFramesOverWithoutWaiting) {
  Harness h;
  const std::string prefix = Unique("recv");
  auto input = h.Input(Spec(prefix, drivers::MqttAck::kReceived));
  CHECK(input->Start().has_value());
  CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->connected("broker"); }); }, 10s));
  std::this_thread::sleep_for(300ms);
  Publisher pub(BrokerUrl());
  for (int i = 0; i < 50; ++i) {
    pub.Publish(prefix + "/sensors/dev1/level", std::to_string(i));
  }
  CHECK(WaitFor([&] { return h.StoredCount() == 50; }, 10s));
  CHECK_EQUAL(0, h.sink->durable_now_calls());
  input->Stop();
}

TEST(MqttInput, StopOnTheLoopDoesNotWaitForAHeldMessageNorLoseIt) {
  Harness h;
  const std::string prefix = Unique("stopheld");
  drivers::MqttSpec spec = Spec(prefix);
  auto input = h.Input(spec);
  CHECK(input->Start().has_value());
  CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->connected("broker"); }); }, 10s));
  std::this_thread::sleep_for(300ms);
  h.loop.Call([&] {
    h.sink->RefuseNext(1000000);
    return 0;
  });
  Publisher pub(BrokerUrl());
  pub.Publish(prefix + "/sensors/dev1/temperature", R"({"value": 1, "ts": 1700000001})");
  CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->refused(); }) >= 2; }, 10s));

  const auto start = std::chrono::steady_clock::now();
  h.loop.Call([&] {
    input->Stop();  // as the service does, on its loop
    return 0;
  });
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK_EQUAL(0u, h.StoredCount());
  CHECK_FALSE(input->Start().has_value());  // still holding a message: refused

  h.loop.Call([&] {
    h.sink->RefuseNext(0);
    return 0;
  });
  CHECK(WaitFor([&] { return h.StoredCount() == 1; }, 10s));
  input.reset();

  // The held message was acknowledged only once stored: a new session gets nothing again.
  auto again = h.Input(spec);
  CHECK(again->Start().has_value());
  CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->connected("broker"); }); }, 10s));
  std::this_thread::sleep_for(1s);
  CHECK_EQUAL(1u, h.StoredCount());
  again->Stop();
}

// Stop on the loop while durable messages keep arriving: each Stop returns (a message that
// arrives while Stop disconnects must not leave the loop waiting behind Paho's lock), the input
// reports itself disconnected afterwards, and every message is stored once the input is back.
TEST(MqttInput, StopOnTheLoopDuringADurableStreamAlwaysReturnsAndLosesNothing) {
  Harness h;
  const std::string prefix = Unique("stopstream");
  drivers::MqttSpec spec = Spec(prefix);
  constexpr int kMessages = 3000;
  std::string lines;
  for (int i = 0; i < kMessages; ++i) {
    lines += R"({"value": )" + std::to_string(i) + R"(, "ts": )" + std::to_string(1700000000 + i) +
             "}\n";
  }
  {
    auto warm = h.Input(spec);  // creates the persistent session before anything is published
    CHECK(warm->Start().has_value());
    CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->connected("broker"); }); }, 10s));
    std::this_thread::sleep_for(300ms);
    h.loop.Call([&] {
      warm->Stop();
      return 0;
    });
  }
  std::thread publisher(
      [&] { Publisher(BrokerUrl()).PublishLines(prefix + "/sensors/dev1/level", lines); });
  for (int cycle = 0; cycle < 15; ++cycle) {
    auto input = h.Input(spec);
    CHECK(input->Start().has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(60 + 17 * (cycle % 5)));
    const auto start = std::chrono::steady_clock::now();
    h.loop.Call([&] {
      input->Stop();
      return 0;
    });
    CHECK(std::chrono::steady_clock::now() - start < 12s);
    // Nothing posted after Stop says the input is connected again.
    CHECK_FALSE(h.loop.Call([&] { return h.sink->connected("broker"); }));
  }
  publisher.join();
  auto input = h.Input(spec);
  CHECK(input->Start().has_value());
  CHECK(WaitFor([&] { return h.StoredCount() == static_cast<std::size_t>(kMessages); }, 60s));
  std::set<long long> values;
  for (const core::Reading& r : h.Stored()) values.insert(static_cast<long long>(r.value));
  CHECK_EQUAL(static_cast<std::size_t>(kMessages), values.size());
  input->Stop();
}

// Stop right after Start, while the connect is still in progress and the session holds queued
// messages: the connect may complete after Stop, and nothing the broker then delivers may be
// acknowledged without being stored.
TEST(MqttInput, StopDuringTheConnectLosesNoQueuedMessage) {
  Harness h;
  const std::string prefix = Unique("stopconnect");
  drivers::MqttSpec spec = Spec(prefix);
  {
    auto warm = h.Input(spec);
    CHECK(warm->Start().has_value());
    CHECK(WaitFor([&] { return h.loop.Call([&] { return h.sink->connected("broker"); }); }, 10s));
    std::this_thread::sleep_for(300ms);
    h.loop.Call([&] {
      warm->Stop();
      return 0;
    });
  }
  constexpr int kMessages = 200;
  std::string lines;
  for (int i = 0; i < kMessages; ++i) {
    lines += R"({"value": )" + std::to_string(i) + R"(, "ts": )" + std::to_string(1700000000 + i) +
             "}\n";
  }
  Publisher(BrokerUrl()).PublishLines(prefix + "/sensors/dev1/level", lines);
  for (int cycle = 0; cycle < 10; ++cycle) {
    auto input = h.Input(spec);
    h.loop.Call([&] {
      CHECK(input->Start().has_value());
      input->Stop();
      return 0;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * cycle));
  }
  auto input = h.Input(spec);
  CHECK(input->Start().has_value());
  CHECK(WaitFor([&] { return h.StoredCount() == static_cast<std::size_t>(kMessages); }, 30s));
  std::this_thread::sleep_for(300ms);
  CHECK_EQUAL(static_cast<std::size_t>(kMessages), h.StoredCount());
  input->Stop();
}
