// The status document's shape and values, from plain facts (no store, no I/O).
#include "agent/status_document.hpp"

#include "tests/agent/config_test_support.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using nlohmann::json;

namespace {

agent::Config TwoInputs() {
  auto config = agent::ParseConfig(
      "gateway = \"gw\"\n[[serial]]\nname = \"arduino1\"\nport = \"/dev/ttyACM0\"\n"
      "[[mqtt]]\nname = \"broker\"\ntopics = [\"s/{device}/{metric}\"]\n",
      "t.toml", testing::FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  return *config;
}

}  // namespace

TEST_GROUP(StatusDocument){};

TEST(StatusDocument, NoStoreNoAgentGivesNullsAndZeros) {
  agent::StatusFacts facts;
  facts.version = "1.2.3";
  json doc = agent::BuildStatusDocument(TwoInputs(), facts);
  STRCMP_EQUAL("gw", doc["gateway"].get<std::string>().c_str());
  CHECK(doc["instance_id"].is_null());
  CHECK(doc["uptime_s"].is_null());
  LONGS_EQUAL(0, doc["pending"]["readings"].get<long>());
  CHECK(doc["pending"]["oldest_ts"].is_null());
  CHECK(doc["pending"]["aggregates"].is_null());
  CHECK(doc["last_sync"]["at"].is_null());
  CHECK(doc["watermarks"]["hourly"].is_null());
  // serial, mqtt, and http (listening by default), each with zero counters
  LONGS_EQUAL(3, doc["inputs"].size());
  STRCMP_EQUAL("broker", doc["inputs"][1]["name"].get<std::string>().c_str());
  STRCMP_EQUAL("mqtt", doc["inputs"][1]["kind"].get<std::string>().c_str());
  CHECK(doc["inputs"][1]["connected"].is_null());
  STRCMP_EQUAL("http", doc["inputs"][2]["kind"].get<std::string>().c_str());
}

TEST(StatusDocument, CountersTimesAndLiveStateAppear) {
  agent::StatusFacts facts;
  facts.instance_id = "abc";
  facts.uptime_s = 42;
  facts.clock_synced = true;
  facts.stats.pending_readings = 7;
  facts.stats.oldest_pending_ts = 1'700'000'000'000'000;
  facts.stats.dropped = 3;
  facts.stats.late = 2;
  store::InputCounters serial;
  serial.frames = 10;
  serial.rejected["checksum"] = 4;
  serial.last_frame_at = 1'700'000'001'500'000;
  facts.stats.inputs["arduino1"] = serial;
  facts.stats.inputs["ingest"].readings = 5;
  facts.connected["arduino1"] = true;
  facts.pending_aggregates = 9;
  facts.hourly_watermark = 1'699'999'200'000'000;
  facts.daily_watermark = 19675;  // 2023-11-14
  facts.last_sync = agent::LastSync{1'700'000'002'000'000, false, "connection refused", 0, 0};
  json doc = agent::BuildStatusDocument(TwoInputs(), facts);
  LONGS_EQUAL(42, doc["uptime_s"].get<long>());
  CHECK(doc["clock_synced"].get<bool>());
  STRCMP_EQUAL("2023-11-14T22:13:20Z", doc["pending"]["oldest_ts"].get<std::string>().c_str());
  LONGS_EQUAL(9, doc["pending"]["aggregates"].get<long>());
  LONGS_EQUAL(3, doc["dropped"].get<long>());
  const json& arduino = doc["inputs"][0];
  CHECK(arduino["connected"].get<bool>());
  LONGS_EQUAL(4, arduino["rejected"]["checksum"].get<long>());
  STRCMP_EQUAL("2023-11-14T22:13:21.500000Z", arduino["last_frame_at"].get<std::string>().c_str());
  STRCMP_EQUAL("ingest", doc["inputs"][3]["kind"].get<std::string>().c_str());
  LONGS_EQUAL(5, doc["inputs"][3]["readings"].get<long>());
  CHECK_FALSE(doc["last_sync"]["ok"].get<bool>());
  STRCMP_EQUAL("connection refused", doc["last_sync"]["error"].get<std::string>().c_str());
  STRCMP_EQUAL("2023-11-14", doc["watermarks"]["daily"].get<std::string>().c_str());
  std::string text = agent::RenderStatusText(doc);
  CHECK(text.find("FAILED: connection refused") != std::string::npos);
}
