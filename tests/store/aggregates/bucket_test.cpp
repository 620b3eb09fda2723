#include "store/bucket.hpp"

#include <CppUTest/TestHarness.h>

#include "core/time.hpp"

using namespace fieldsync;
using core::kMicrosPerHour;
using store::BucketStats;

namespace {

core::MetricSpec Gauge(std::optional<core::ConditionProfile> profile = std::nullopt) {
  core::MetricSpec spec;
  spec.profile = profile;
  return spec;
}

}  // namespace

TEST_GROUP(Bucket){};

TEST(Bucket, HourBucketIncludesItsStartAndExcludesItsEnd) {
  core::TimeUs h = *core::ParseRfc3339("2026-11-22T10:00:00Z");
  LONGLONGS_EQUAL(h, store::HourBucketStart(h));
  LONGLONGS_EQUAL(h, store::HourBucketStart(h + kMicrosPerHour - 1));
  LONGLONGS_EQUAL(h + kMicrosPerHour, store::HourBucketStart(h + kMicrosPerHour));
  LONGLONGS_EQUAL(h - kMicrosPerHour, store::HourBucketStart(h - 1));
  LONGLONGS_EQUAL(-kMicrosPerHour, store::HourBucketStart(-1));  // before 1970 floors downward
}

TEST(Bucket, GaugeStatisticsAndLastByTimestampNotArrival) {
  BucketStats b;
  store::AddReading(b, 300, 5.0, Gauge());
  store::AddReading(b, 100, -2.0, Gauge());  // older, arrives later: does not become `last`
  store::AddReading(b, 200, 9.5, Gauge());
  LONGLONGS_EQUAL(3, b.n);
  DOUBLES_EQUAL(12.5, b.sum, 1e-12);
  DOUBLES_EQUAL(12.5 / 3, *b.avg(), 1e-12);
  DOUBLES_EQUAL(-2.0, b.min, 0);
  DOUBLES_EQUAL(9.5, b.max, 0);
  DOUBLES_EQUAL(5.0, b.last, 0);
  LONGLONGS_EQUAL(300, b.last_ts);
  CHECK_FALSE(b.delta.has_value());
  CHECK_FALSE(b.optimal_pct().has_value());
  CHECK_FALSE(b.critical_pct().has_value());
}

TEST(Bucket, EmptyBucketHasNoAverage) {
  BucketStats b;
  CHECK_FALSE(b.avg().has_value());
}

TEST(Bucket, ConditionBoundsAreInclusiveForOptimalAndExclusiveForCritical) {
  core::ConditionProfile p{18.0, 26.0, 14.0, 31.0};
  CHECK_TRUE(store::Classify(p, 18.0).optimal);
  CHECK_TRUE(store::Classify(p, 26.0).optimal);
  CHECK_FALSE(store::Classify(p, 26.01).optimal);
  CHECK_FALSE(store::Classify(p, 14.0).critical);
  CHECK_TRUE(store::Classify(p, 13.99).critical);
  CHECK_FALSE(store::Classify(p, 31.0).critical);
  CHECK_TRUE(store::Classify(p, 31.01).critical);
  store::Condition between = store::Classify(p, 28.0);
  CHECK_FALSE(between.optimal);
  CHECK_FALSE(between.critical);
}

TEST(Bucket, MarginRuleWithNegativeAndZeroBounds) {
  // optimal [-10, 0], margin 0.2: critical [-12, 0] (|0| widens nothing).
  core::ConditionProfile p = core::ProfileFromMargin(-10.0, 0.0, 0.2);
  DOUBLES_EQUAL(-12.0, p.critical_lo, 1e-12);
  DOUBLES_EQUAL(0.0, p.critical_hi, 0);
  BucketStats b;
  for (double v : {-12.5, -12.0, -10.0, -5.0, 0.0, 0.001}) {
    store::AddReading(b, static_cast<core::TimeUs>(v * 1000), v, Gauge(p));
  }
  LONGLONGS_EQUAL(3, *b.optimal_n);   // -10, -5, 0
  LONGLONGS_EQUAL(2, *b.critical_n);  // -12.5 and 0.001
  DOUBLES_EQUAL(50.0, *b.optimal_pct(), 1e-12);
  DOUBLES_EQUAL(100.0 * 2 / 6, *b.critical_pct(), 1e-12);
}

TEST(Bucket, ExplicitCriticalBoundsAreUsedAsGiven) {
  core::ConditionProfile p{-5.0, 5.0, -5.0, 100.0};
  BucketStats b;
  store::AddReading(b, 1, -5.0, Gauge(p));  // optimal, not critical
  store::AddReading(b, 2, -5.5, Gauge(p));  // critical
  store::AddReading(b, 3, 50.0, Gauge(p));  // neither
  LONGLONGS_EQUAL(1, *b.optimal_n);
  LONGLONGS_EQUAL(1, *b.critical_n);
}

TEST(Bucket, ProfileArrivingLaterMakesConditionsNonNullFromThen) {
  BucketStats b;
  store::AddReading(b, 1, 20.0, Gauge());
  CHECK_FALSE(b.optimal_n.has_value());
  store::AddReading(b, 2, 20.0, Gauge(core::ProfileFromMargin(18, 26, 0.2)));
  LONGLONGS_EQUAL(1, *b.optimal_n);
  DOUBLES_EQUAL(50.0, *b.optimal_pct(), 1e-12);  // over all n readings of the bucket
}

TEST(Bucket, CounterBucketStartsWithZeroDelta) {
  core::MetricSpec counter;
  counter.kind = core::MetricKind::kCounter;
  BucketStats b;
  store::AddReading(b, 1, 100.0, counter);
  DOUBLES_EQUAL(0.0, *b.delta, 0);
  store::AddDelta(b, 2.5);
  DOUBLES_EQUAL(2.5, *b.delta, 0);
}
