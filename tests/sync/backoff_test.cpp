#include "sync/backoff.hpp"

#include <CppUTest/TestHarness.h>

#include <vector>

using fieldsync::sync::Backoff;
using fieldsync::sync::SeededUniform;

namespace {
// Always draws the ceiling, exposing the schedule itself.
std::int64_t Highest(std::int64_t max_inclusive) { return max_inclusive; }
}  // namespace

TEST_GROUP(Backoff){};

TEST(Backoff, CeilingDoublesFromOneSecondUpToTheCap) {
  Backoff backoff(1000, 10, Highest);
  std::vector<std::int64_t> delays;
  for (int i = 0; i < 6; ++i) delays.push_back(backoff.NextDelayMs());
  const std::vector<std::int64_t> expected = {1000, 2000, 4000, 8000, 10000, 10000};
  CHECK(delays == expected);
}

TEST(Backoff, ManyFailuresNeverOverflowPastTheCap) {
  Backoff backoff(1000, 300, Highest);
  for (int i = 0; i < 200; ++i) backoff.NextDelayMs();
  LONGS_EQUAL(300000, backoff.NextDelayMs());
}

TEST(Backoff, JitterStaysWithinZeroAndCeiling) {
  Backoff backoff(1000, 300, SeededUniform(42));
  bool saw_below_half = false;
  for (int i = 0; i < 500; ++i) {
    const std::int64_t ceiling = backoff.CurrentCeilingMs();
    const std::int64_t d = backoff.NextDelayMs();
    CHECK(d >= 0);
    CHECK(d <= ceiling);
    if (ceiling == 300000 && d < 150000) saw_below_half = true;
  }
  CHECK(saw_below_half);  // full jitter: not just "ceiling minus a little"
}

TEST(Backoff, OutOfRangeDrawIsClamped) {
  Backoff backoff(1000, 300, [](std::int64_t max) { return max + 5; });
  LONGS_EQUAL(1000, backoff.NextDelayMs());
}

TEST(Backoff, SuccessResetsToTheFirstStep) {
  Backoff backoff(1000, 300, Highest);
  backoff.NextDelayMs();
  backoff.NextDelayMs();
  backoff.NextDelayMs();
  backoff.Reset();
  LONGS_EQUAL(1000, backoff.NextDelayMs());
  LONGS_EQUAL(2000, backoff.NextDelayMs());
}

TEST(Backoff, SameSeedSameSchedule) {
  Backoff a(1000, 300, SeededUniform(7));
  Backoff b(1000, 300, SeededUniform(7));
  for (int i = 0; i < 20; ++i) LONGS_EQUAL(a.NextDelayMs(), b.NextDelayMs());
}
