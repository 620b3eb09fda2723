// How fetched condition profiles combine (§4): per-row margin rule, widest range per metric,
// the config file first.
#include "sync/profile_merge.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using sync::FetchedProfileRow;

TEST_GROUP(ProfileMerge){};

TEST(ProfileMerge, NullCriticalBoundsFollowTheMarginRulePerRow) {
  auto merged = sync::MergeFetchedProfiles({{"temperature", 18.0, 26.0, std::nullopt, 32.0}});
  const core::ConditionProfile p = merged.at("temperature");
  DOUBLES_EQUAL(18.0 - 0.2 * 18.0, p.critical_lo, 1e-9);  // margin 0.20
  DOUBLES_EQUAL(32.0, p.critical_hi, 1e-9);               // given
  DOUBLES_EQUAL(18.0, p.optimal_lo, 1e-9);
  DOUBLES_EQUAL(26.0, p.optimal_hi, 1e-9);
}

TEST(ProfileMerge, TheMetricsOwnMarginReplacesTheDefault) {
  auto merged =
      sync::MergeFetchedProfiles({{"ph", -2.0, 4.0, std::nullopt, std::nullopt}}, {{"ph", 0.5}});
  DOUBLES_EQUAL(-3.0, merged.at("ph").critical_lo, 1e-9);  // lo - 0.5 * |lo|
  DOUBLES_EQUAL(6.0, merged.at("ph").critical_hi, 1e-9);
}

TEST(ProfileMerge, RowsOfOneMetricMergeToTheWidestRangeAfterResolvingEachRow) {
  // Row 1 resolves to critical [8, 36] by the margin; row 2 gives [12, 40] explicitly.
  auto merged = sync::MergeFetchedProfiles({{"t", 10.0, 30.0, std::nullopt, std::nullopt},
                                            {"t", 15.0, 35.0, 12.0, 40.0},
                                            {"rh", 40.0, 60.0, 30.0, 70.0}});
  LONGS_EQUAL(2, merged.size());
  const core::ConditionProfile t = merged.at("t");
  DOUBLES_EQUAL(10.0, t.optimal_lo, 1e-9);
  DOUBLES_EQUAL(35.0, t.optimal_hi, 1e-9);
  DOUBLES_EQUAL(8.0, t.critical_lo, 1e-9);
  DOUBLES_EQUAL(40.0, t.critical_hi, 1e-9);
  CHECK(merged.at("rh") == (core::ConditionProfile{40.0, 60.0, 30.0, 70.0}));
}

TEST(ProfileMerge, TheConfigFileWinsAndOnlyFillsWhatItLacks) {
  std::map<std::string, core::MetricSpec> configured;
  configured["t"].profile = core::ConditionProfile{18.0, 26.0, 14.0, 31.0};
  configured["energy"].kind = core::MetricKind::kCounter;
  configured["energy"].unit = "kWh";
  std::map<std::string, core::ConditionProfile> fetched = {{"t", {0.0, 100.0, -10.0, 110.0}},
                                                           {"energy", {1.0, 2.0, 0.5, 3.0}},
                                                           {"co2", {400.0, 800.0, 300.0, 1200.0}}};

  auto specs = sync::MergeMetricSpecs(configured, fetched);
  LONGS_EQUAL(3, specs.size());
  CHECK(*specs.at("t").profile == (core::ConditionProfile{18.0, 26.0, 14.0, 31.0}));
  CHECK(*specs.at("energy").profile == (core::ConditionProfile{1.0, 2.0, 0.5, 3.0}));
  CHECK(specs.at("energy").kind == core::MetricKind::kCounter);  // kept from the config
  STRCMP_EQUAL("kWh", specs.at("energy").unit.c_str());
  CHECK(specs.at("co2").kind == core::MetricKind::kGauge);
  CHECK(*specs.at("co2").profile == (core::ConditionProfile{400.0, 800.0, 300.0, 1200.0}));
}

TEST(ProfileMerge, NothingFetchedLeavesTheConfigAsItIs) {
  std::map<std::string, core::MetricSpec> configured;
  configured["t"].unit = "C";
  auto specs = sync::MergeMetricSpecs(configured, {});
  LONGS_EQUAL(1, specs.size());
  CHECK(!specs.at("t").profile.has_value());
}
