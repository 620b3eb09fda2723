// The decisions of the MQTT and HTTP components of `fieldsync run`, without sockets: which MQTT
// inputs a reload restarts, how /metrics is filled from the store's facts, and which registry
// command a POST /api/run request becomes.
#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

#include "agent/prometheus.hpp"
#include "agent/run_http.hpp"
#include "agent/run_mqtt_inputs.hpp"

using namespace fieldsync;

namespace {

drivers::MqttSpec Spec(const std::string& name, const std::string& url) {
  drivers::MqttSpec s;
  s.name = name;
  s.url = url;
  s.client_id = "gw-" + name;
  s.topics = {"sensors/{device}/{metric}"};
  return s;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += n + " ";
  return out;
}

}  // namespace

TEST_GROUP(MqttReloadPlan){};

TEST(MqttReloadPlan, AddsRemovesRestartsChangedAndKeepsUnchangedInputs) {
  std::vector<drivers::MqttSpec> running = {Spec("a", "tcp://h:1883"), Spec("b", "tcp://h:1883"),
                                            Spec("c", "tcp://h:1883")};
  std::vector<drivers::MqttSpec> wanted = {Spec("a", "tcp://h:1883"), Spec("c", "tcp://k:1883"),
                                           Spec("d", "tcp://h:1883")};
  auto plan = agent::PlanMqttChanges(running, wanted, false);
  STRCMP_EQUAL("a ", Join(plan.keep).c_str());
  STRCMP_EQUAL("b ", Join(plan.stop).c_str());
  STRCMP_EQUAL("c ", Join(plan.restart).c_str());
  STRCMP_EQUAL("d ", Join(plan.start).c_str());
}

TEST(MqttReloadPlan, EverySettingThatReachesTheBrokerOrTheDecoderRestartsTheInput) {
  const auto base = Spec("a", "tcp://h:1883");
  std::vector<drivers::MqttSpec> changed(9, base);
  changed[0].client_id = "other";
  changed[1].topics.push_back("frames/{device}");
  changed[2].qos = 0;
  changed[3].ack = drivers::MqttAck::kReceived;
  changed[4].password = "new secret";
  changed[5].username = "u";
  changed[6].frame.format = drivers::FrameFormat::kKv;
  changed[7].frame.device = "uno";
  changed[8].url = "ssl://h:8883";
  for (std::size_t i = 0; i < changed.size(); ++i) {
    auto plan = agent::PlanMqttChanges({base}, {changed[i]}, false);
    STRCMP_EQUAL_TEXT("a ", Join(plan.restart).c_str(), ("setting " + std::to_string(i)).c_str());
    LONGS_EQUAL(0, plan.keep.size());
  }
}

TEST(MqttReloadPlan, ChangedCalibrationRestartsEveryInput) {
  auto plan = agent::PlanMqttChanges({Spec("a", "tcp://h:1")}, {Spec("a", "tcp://h:1")}, true);
  STRCMP_EQUAL("a ", Join(plan.restart).c_str());
  LONGS_EQUAL(0, plan.keep.size());
}

TEST(MqttReloadPlan, OnlyScaleAndOffsetCountAsACalibrationChange) {
  std::map<std::string, core::MetricSpec> a;
  a["t"].scale = 1.0;
  auto units = a;
  units["t"].unit = "C";
  auto scaled = a;
  scaled["t"].scale = 0.1;
  CHECK(agent::SameCalibration(a, units));
  CHECK_FALSE(agent::SameCalibration(a, scaled));
  CHECK_FALSE(agent::SameCalibration(a, {}));
}

TEST_GROUP(HttpMetricsSnapshot){};

TEST(HttpMetricsSnapshot, CarriesTheStoreCountersTheConnectionsAndTheSyncTotals) {
  agent::StatusFacts facts;
  facts.clock_synced = true;
  facts.stats.pending_readings = 42;
  facts.stats.oldest_pending_ts = 1'000'000'000;
  facts.stats.bytes = 4096;
  facts.stats.dropped = 3;
  facts.stats.late = 4;
  facts.stats.quarantined = 5;
  facts.stats.inputs["broker"].readings = 100;
  facts.stats.inputs["broker"].duplicates = 7;
  facts.stats.inputs["broker"].rejected["parse"] = 2;
  agent::SyncCounters sync{90, 6, 1};
  auto m = agent::BuildMetricsSnapshot(facts, {{"broker", true}, {"arduino", false}}, sync,
                                       1'000'000'000 + 2'500'000);
  LONGS_EQUAL(100, m.inputs["broker"].readings_ingested);
  LONGS_EQUAL(7, m.inputs["broker"].duplicates);
  LONGS_EQUAL(2, m.inputs["broker"].rejected["parse"]);
  CHECK(m.inputs["broker"].connected);
  CHECK(m.inputs.count("arduino") == 1);  // configured, not seen yet: still exported
  CHECK_FALSE(m.inputs["arduino"].connected);
  LONGS_EQUAL(42, m.pending_readings);
  DOUBLES_EQUAL(2.5, m.oldest_pending_age_seconds, 1e-9);
  LONGS_EQUAL(90, m.uploaded_readings);
  LONGS_EQUAL(6, m.upload_skipped);
  LONGS_EQUAL(1, m.sync_errors);
  LONGS_EQUAL(3, m.dropped_readings);
  LONGS_EQUAL(4, m.late_readings);
  LONGS_EQUAL(5, m.quarantined_readings);
  LONGS_EQUAL(4096, m.store_bytes);
  CHECK(m.clock_synced);
}

TEST(HttpMetricsSnapshot, NothingPendingIsAgeZeroAndAClockBehindTheOldestIsNotNegative) {
  agent::StatusFacts facts;
  auto none = agent::BuildMetricsSnapshot(facts, {}, {}, 5'000'000);
  DOUBLES_EQUAL(0.0, none.oldest_pending_age_seconds, 0.0);
  facts.stats.oldest_pending_ts = 9'000'000;
  auto behind = agent::BuildMetricsSnapshot(facts, {}, {}, 5'000'000);
  DOUBLES_EQUAL(0.0, behind.oldest_pending_age_seconds, 0.0);
}

TEST_GROUP(HttpRunRequest){};

TEST(HttpRunRequest, AggregateScopesBackfillAndCleanupBecomeRegistryCommands) {
  agent::RunRequest hourly{"hourly", 3, true};
  auto [aggregate, aggregate_args] = agent::RegistryCommand(hourly);
  STRCMP_EQUAL("aggregate", aggregate.c_str());
  STRCMP_EQUAL(R"({"days":3,"dry_run":true,"scope":"hourly"})", aggregate_args.dump().c_str());

  auto [backfill, backfill_args] = agent::RegistryCommand({"backfill", 7, false});
  STRCMP_EQUAL("backfill", backfill.c_str());
  STRCMP_EQUAL(R"({"days":7})", backfill_args.dump().c_str());

  auto [cleanup, cleanup_args] = agent::RegistryCommand({"cleanup", 30, false});
  STRCMP_EQUAL("cleanup", cleanup.c_str());
  STRCMP_EQUAL(R"({"retention_days":30})", cleanup_args.dump().c_str());

  auto [sync, sync_args] = agent::RegistryCommand({"sync", std::nullopt, false});
  STRCMP_EQUAL("sync", sync.c_str());
  STRCMP_EQUAL("{}", sync_args.dump().c_str());
}
