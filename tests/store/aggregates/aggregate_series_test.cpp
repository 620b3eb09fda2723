#include "store/aggregate_series.hpp"

#include <CppUTest/TestHarness.h>

#include <algorithm>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "store/counter_delta.hpp"

using namespace fieldsync;
using core::kMicrosPerHour;
using core::kMicrosPerSecond;
using store::ApplyOutcome;
using store::SeriesAggregator;
using store::TimeZone;

namespace {

TimeZone Zone(const char* name) { return *TimeZone::FromName(name); }

core::MetricSpec Counter(double jitter = 0.0) {
  core::MetricSpec spec;
  spec.kind = core::MetricKind::kCounter;
  spec.jitter = jitter;
  return spec;
}

core::TimeUs At(const char* rfc3339) { return *core::ParseRfc3339(rfc3339); }

// Deltas per hour computed directly from the definition: sort, walk consecutive pairs.
std::map<core::TimeUs, double> HourlyDeltasByDefinition(
    std::vector<std::pair<core::TimeUs, double>> r, double jitter) {
  std::sort(r.begin(), r.end());
  std::map<core::TimeUs, double> out;
  for (size_t i = 0; i < r.size(); ++i) {
    double step = i == 0 ? 0.0 : store::CounterStep(r[i - 1].second, r[i].second, jitter);
    out[store::HourBucketStart(r[i].first)] += step;
  }
  return out;
}

}  // namespace

TEST_GROUP(SeriesAggregator){};

TEST(SeriesAggregator, StepCountsInTheBucketOfTheLaterReading) {
  SeriesAggregator agg(Counter(), Zone("UTC"), 3600);
  core::TimeUs h = At("2026-11-22T10:00:00Z");
  agg.Apply(h - 1, 100.0);                    // last microsecond of 09:00
  agg.Apply(h, 105.0);                        // exactly on the edge: belongs to 10:00
  agg.Apply(h + 60 * kMicrosPerSecond, 2.0);  // reset
  DOUBLES_EQUAL(0.0, *agg.hourly().at(h - kMicrosPerHour).delta, 0);
  DOUBLES_EQUAL(5.0 + 2.0, *agg.hourly().at(h).delta, 1e-12);
  LONGLONGS_EQUAL(1, agg.hourly().at(h - kMicrosPerHour).n);
  LONGLONGS_EQUAL(2, agg.hourly().at(h).n);
}

TEST(SeriesAggregator, JitterDropIsNotAReset) {
  SeriesAggregator agg(Counter(0.5), Zone("UTC"), 3600);
  agg.Apply(1, 100.0);
  agg.Apply(2, 99.8);   // noise
  agg.Apply(3, 101.0);  // counts from 99.8: 1.2
  DOUBLES_EQUAL(1.2, *agg.hourly().begin()->second.delta, 1e-9);
}

TEST(SeriesAggregator, OutOfOrderInsideTheWindowGivesTheInOrderDeltas) {
  core::TimeUs t0 = At("2026-11-22T10:50:00Z");
  core::TimeUs m = 60 * kMicrosPerSecond;
  SeriesAggregator in_order(Counter(), Zone("UTC"), 3600);
  SeriesAggregator shuffled(Counter(), Zone("UTC"), 3600);
  std::vector<std::pair<core::TimeUs, double>> r = {
      {t0, 10}, {t0 + 5 * m, 12}, {t0 + 10 * m, 15}, {t0 + 15 * m, 1}, {t0 + 20 * m, 4}};
  for (auto [ts, v] : r) in_order.Apply(ts, v);
  for (int i : {4, 0, 2, 3, 1}) {
    CHECK(shuffled.Apply(r[static_cast<size_t>(i)].first, r[static_cast<size_t>(i)].second) ==
          ApplyOutcome::kAggregated);
  }
  for (const auto& [hour, bucket] : in_order.hourly()) {
    DOUBLES_EQUAL(*bucket.delta, *shuffled.hourly().at(hour).delta, 1e-9);
    LONGLONGS_EQUAL(bucket.n, shuffled.hourly().at(hour).n);
    DOUBLES_EQUAL(bucket.last, shuffled.hourly().at(hour).last, 0);
  }
  // 10:50 and 10:55 in the 10:00 hour (step 2); 11:00 (3), 11:05 reset (1), 11:10 (3).
  DOUBLES_EQUAL(2.0, *in_order.hourly().at(store::HourBucketStart(t0)).delta, 1e-9);
}

TEST(SeriesAggregator, ReadingExactlyAtTheWindowEdgeIsAggregatedOlderIsLate) {
  SeriesAggregator agg(Counter(), Zone("UTC"), 600);
  core::TimeUs t = At("2026-11-22T10:30:00Z");
  agg.Apply(t, 50.0);
  CHECK(agg.Apply(t - 600 * kMicrosPerSecond, 40.0) == ApplyOutcome::kAggregated);
  CHECK(agg.Apply(t - 600 * kMicrosPerSecond - 1, 39.0) == ApplyOutcome::kLate);
  LONGLONGS_EQUAL(1, agg.late());
  LONGLONGS_EQUAL(2, agg.hourly().begin()->second.n);
  DOUBLES_EQUAL(10.0, *agg.hourly().begin()->second.delta, 1e-12);
}

TEST(SeriesAggregator, DuplicateInsideTheWindowChangesNothing) {
  SeriesAggregator agg(Counter(), Zone("UTC"), 3600);
  agg.Apply(10, 1.0);
  agg.Apply(20, 2.0);
  CHECK(agg.Apply(10, 7.0) == ApplyOutcome::kDuplicate);
  LONGLONGS_EQUAL(2, agg.hourly().begin()->second.n);
  DOUBLES_EQUAL(1.0, *agg.hourly().begin()->second.delta, 1e-12);
}

TEST(SeriesAggregator, WindowKeepsOneAnchorBeforeTheCutoff) {
  SeriesAggregator agg(Counter(), Zone("UTC"), 60);
  core::TimeUs s = kMicrosPerSecond;
  agg.Apply(0, 1.0);
  agg.Apply(10 * s, 2.0);
  agg.Apply(100 * s, 3.0);  // cutoff 40 s: 10 s stays as the anchor, 0 s goes
  LONGLONGS_EQUAL(2, agg.window_size());
  // 50 s is inside the window; its predecessor is the anchor at 10 s (value 2).
  agg.Apply(50 * s, 2.5);
  DOUBLES_EQUAL(2.0, *agg.hourly().begin()->second.delta, 1e-12);  // 1->2->2.5->3
}

TEST(SeriesAggregator, DailyBucketsFollowTheZoneAcrossDst) {
  SeriesAggregator agg(Counter(), Zone("Europe/Berlin"), 3600);
  // One reading per UTC hour from 2026-10-24T21:30Z to 2026-10-26T00:30Z, counting up by 1.
  core::TimeUs start = At("2026-10-24T21:30:00Z");
  for (int i = 0; i < 28; ++i) agg.Apply(start + i * kMicrosPerHour, static_cast<double>(i));
  std::int64_t d = *core::ParseIsoDate("2026-10-25");
  // The 25-hour day holds 22:30Z..23:30Z next day: 25 readings, each with a step of 1.
  LONGLONGS_EQUAL(25, agg.daily().at(d).n);
  DOUBLES_EQUAL(25.0, *agg.daily().at(d).delta, 1e-9);
  LONGLONGS_EQUAL(1, agg.daily().at(d - 1).n);
  LONGLONGS_EQUAL(2, agg.daily().at(d + 1).n);
}

TEST(SeriesAggregator, RandomDisorderInsideTheWindowMatchesTheDefinition) {
  std::mt19937_64 rng(20261122);
  for (int round = 0; round < 50; ++round) {
    double jitter = round % 2 == 0 ? 0.0 : 0.3;
    SeriesAggregator agg(Counter(jitter), Zone("Asia/Kolkata"), 1800);
    std::vector<std::pair<core::TimeUs, double>> readings;
    core::TimeUs t = At("2026-11-22T16:00:00Z");
    double v = 0;
    for (int i = 0; i < 200; ++i) {
      t += static_cast<core::TimeUs>(rng() % 600) * kMicrosPerSecond + 1;
      if (i % 17 == 0) t = store::HourBucketStart(t) + kMicrosPerHour;  // exactly on an hour edge
      v = rng() % 23 == 0 ? static_cast<double>(rng() % 5)
                          : v + static_cast<double>(rng() % 100) / 10;
      if (rng() % 7 == 0) v -= 0.2;  // a jitter-sized dip
      readings.emplace_back(t, v);
    }
    // Arrival order: shuffle inside blocks whose span stays within the late window.
    std::vector<std::pair<core::TimeUs, double>> arrival = readings;
    for (size_t i = 0; i + 3 <= arrival.size(); i += 3) {
      std::shuffle(arrival.begin() + static_cast<std::ptrdiff_t>(i),
                   arrival.begin() + static_cast<std::ptrdiff_t>(i + 3), rng);
    }
    std::vector<std::pair<core::TimeUs, double>> aggregated;
    for (auto [ts, value] : arrival) {
      if (agg.Apply(ts, value) == ApplyOutcome::kAggregated) aggregated.emplace_back(ts, value);
    }
    auto expected = HourlyDeltasByDefinition(aggregated, jitter);
    LONGLONGS_EQUAL(static_cast<long long>(expected.size()),
                    static_cast<long long>(agg.hourly().size()));
    for (const auto& [hour, delta] : expected)
      DOUBLES_EQUAL(delta, *agg.hourly().at(hour).delta, 1e-6);
  }
}
