// What a valid configuration loads to: the §6 example, defaults, and the "" / integer rules.
#include "agent/config.hpp"
#include "tests/agent/config_test_support.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using fieldsync::testing::FakeEnvironment;

TEST_GROUP(ConfigLoad){};

TEST(ConfigLoad, SpecExampleLoadsWithItsValues) {
  auto config = agent::LoadConfig(FIELDSYNC_TEST_DATA_DIR "/spec_example.toml", FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  STRCMP_EQUAL("greenhouse-1", config->gateway.c_str());
  STRCMP_EQUAL("/var/lib/fieldsync", config->state_dir.c_str());
  CHECK(config->store.on_full == store::OnFull::kDropOldest);
  CHECK(config->store.synchronous == store::Synchronous::kFull);
  LONGS_EQUAL(1024, config->store.max_mb);
  LONGS_EQUAL(1, config->serial.size());
  const auto& serial = config->serial[0];
  STRCMP_EQUAL("arduino1", serial.name.c_str());
  STRCMP_EQUAL("/dev/serial/by-id/usb-Arduino_Uno-if00", serial.port.c_str());
  LONGS_EQUAL(115200, serial.baud);
  STRCMP_EQUAL("arduino_1", serial.frame.device.c_str());
  CHECK(serial.frame.format == drivers::FrameFormat::kJson);
  CHECK_FALSE(serial.ack);
  LONGS_EQUAL(1, config->mqtt.size());
  const auto& mqtt = config->mqtt[0];
  STRCMP_EQUAL("fieldsync-greenhouse-1", mqtt.client_id.c_str());
  LONGS_EQUAL(2, mqtt.topics.size());
  STRCMP_EQUAL("frames/{device}", mqtt.topics[1].c_str());
  CHECK(mqtt.ack == drivers::MqttAck::kDurable);
  CHECK(mqtt.password.empty());
  STRCMP_EQUAL("127.0.0.1:8080", config->http.listen.c_str());
  LONGS_EQUAL(730, config->aggregate.daily_retention_days);
  const auto& temperature = config->metrics.at("temperature");
  STRCMP_EQUAL("C", temperature.unit.c_str());
  CHECK(temperature.profile.has_value());
  // critical_margin 0.20 around [18, 26] -> [14.4, 31.2]
  CHECK(*temperature.profile == core::ProfileFromMargin(18.0, 26.0, 0.20));
  DOUBLES_EQUAL(14.4, temperature.profile->critical_lo, 1e-9);
  DOUBLES_EQUAL(31.2, temperature.profile->critical_hi, 1e-9);
  CHECK(config->sync.url.empty());
  LONGS_EQUAL(5000, config->sync.batch_size);
  CHECK(config->warnings.empty());
}

TEST(ConfigLoad, OnlyGatewayGivesEveryDefault) {
  auto config = agent::ParseConfig("gateway = \"g1\"\n", "t.toml", FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  STRCMP_EQUAL("/var/lib/fieldsync", config->state_dir.c_str());
  STRCMP_EQUAL("info", config->log.level.c_str());
  CHECK(config->log.format == agent::LogFormat::kText);
  LONGS_EQUAL(1024, config->store.max_mb);
  CHECK(config->serial.empty());
  CHECK(config->mqtt.empty());
  STRCMP_EQUAL("127.0.0.1:8080", config->http.listen.c_str());
  STRCMP_EQUAL("UTC", config->aggregate.timezone.c_str());
  LONGS_EQUAL(3600, config->aggregate.late_window_s);
  STRCMP_EQUAL("fieldsync", config->sync.schema.c_str());
  LONGS_EQUAL(300, config->sync.max_backoff_s);
  LONGS_EQUAL(30, config->sync.op_timeout_s);
  CHECK_FALSE(config->clock.trust_unsynced);
}

TEST(ConfigLoad, EmptyStringMeansUnsetButEmptyListenTurnsHttpOff) {
  auto config = agent::ParseConfig(
      "gateway = \"g\"\nstate_dir = \"\"\n[aggregate]\ntimezone = \"\"\n[http]\nlisten = \"\"\n",
      "t.toml", FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  STRCMP_EQUAL("/var/lib/fieldsync", config->state_dir.c_str());
  STRCMP_EQUAL("UTC", config->aggregate.timezone.c_str());
  STRCMP_EQUAL("", config->http.listen.c_str());
}

TEST(ConfigLoad, IntegerAcceptedWhereFloatExpected) {
  auto config = agent::ParseConfig(
      "gateway = \"g\"\n[metrics.\"dc.v1\"]\nkind = \"counter\"\noptimal = [220, 240]\n"
      "critical = [200, 250]\nscale = 2\njitter = 1\n",
      "t.toml", FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  const auto& m = config->metrics.at("dc.v1");
  CHECK(m.kind == core::MetricKind::kCounter);
  DOUBLES_EQUAL(2.0, m.scale, 0);
  DOUBLES_EQUAL(1.0, m.jitter, 0);
  CHECK(*m.profile == (core::ConditionProfile{220, 240, 200, 250}));
}

TEST(ConfigLoad, MetricWithoutOptimalHasNoProfile) {
  auto config = agent::ParseConfig("gateway = \"g\"\n[metrics.hum]\nunit = \"%\"\n", "t.toml",
                                   FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  CHECK_FALSE(config->metrics.at("hum").profile.has_value());
}

TEST(ConfigLoad, SynchronousNormalWithAcknowledgingInputsWarns) {
  auto config = agent::ParseConfig(
      "gateway = \"g\"\n[store]\nsynchronous = \"normal\"\n"
      "[[serial]]\nname = \"a\"\nport = \"/dev/ttyACM0\"\nack = true\n",
      "t.toml", FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  // the serial input with ack, and HTTP on by default
  LONGS_EQUAL(2, config->warnings.size());
  CHECK(config->warnings[0].find("'a' has ack = true") != std::string::npos);
}

TEST(ConfigLoad, SynchronousNormalWithoutAcknowledgementsIsQuiet) {
  auto config = agent::ParseConfig(
      "gateway = \"g\"\n[store]\nsynchronous = \"normal\"\n[http]\nlisten = \"\"\n"
      "[[mqtt]]\nname = \"b\"\ntopics = [\"t/{device}\"]\nack = \"received\"\n",
      "t.toml", FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  CHECK(config->warnings.empty());
}
