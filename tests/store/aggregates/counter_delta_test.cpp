#include "store/counter_delta.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldsync::store;

TEST_GROUP(CounterDelta){};

TEST(CounterDelta, RiseIsTheDifference) {
  DOUBLES_EQUAL(2.5, CounterStep(10.0, 12.5, 0.0), 1e-12);
  DOUBLES_EQUAL(0.0, CounterStep(10.0, 10.0, 0.0), 0);
}

TEST(CounterDelta, DropIsAResetCountingTheNewValue) {
  DOUBLES_EQUAL(3.0, CounterStep(1000.0, 3.0, 0.0), 0);
  DOUBLES_EQUAL(0.0, CounterStep(1000.0, 0.0, 0.0), 0);
}

TEST(CounterDelta, DropSmallerThanJitterIsNoChange) {
  DOUBLES_EQUAL(0.0, CounterStep(100.0, 99.95, 0.1), 0);
  // A drop of exactly the jitter, or more, is a reset.
  DOUBLES_EQUAL(99.5, CounterStep(100.0, 99.5, 0.5), 0);
  DOUBLES_EQUAL(2.0, CounterStep(100.0, 2.0, 0.5), 0);
}

TEST(CounterDelta, FirstReadingOfSeriesContributesZero) {
  InsertionDeltas d = DeltasOfInsertion(std::nullopt, CounterPoint{5, 42.0}, std::nullopt, 0.0);
  LONGLONGS_EQUAL(5, d.own.ts);
  DOUBLES_EQUAL(0.0, d.own.delta, 0);
  CHECK_FALSE(d.next.has_value());
}

TEST(CounterDelta, InsertionBetweenNeighboursReplacesTheirStep) {
  // Series 10 @1, 20 @3; then 14 @2 arrives. Before: step(10->20)=10 in bucket of @3.
  // After: 4 in bucket of @2, 6 in bucket of @3: the @3 bucket changes by 6 - 10 = -4.
  InsertionDeltas d =
      DeltasOfInsertion(CounterPoint{1, 10.0}, CounterPoint{2, 14.0}, CounterPoint{3, 20.0}, 0.0);
  DOUBLES_EQUAL(4.0, d.own.delta, 1e-12);
  LONGLONGS_EQUAL(3, d.next->ts);
  DOUBLES_EQUAL(-4.0, d.next->delta, 1e-12);
}

TEST(CounterDelta, InsertionBeforeTheFirstReadingGivesTheOldFirstItsStep) {
  InsertionDeltas d =
      DeltasOfInsertion(std::nullopt, CounterPoint{1, 7.0}, CounterPoint{2, 9.0}, 0);
  DOUBLES_EQUAL(0.0, d.own.delta, 0);
  DOUBLES_EQUAL(2.0, d.next->delta, 1e-12);
}

TEST(CounterDelta, LateReadingBetweenAResetAndItsPredecessor) {
  // 100 @1, 3 @3 (reset: step 3). 101 @2 arrives: 100->101 = 1, 101->3 = reset 3: next unchanged.
  InsertionDeltas d =
      DeltasOfInsertion(CounterPoint{1, 100.0}, CounterPoint{2, 101.0}, CounterPoint{3, 3.0}, 0.0);
  DOUBLES_EQUAL(1.0, d.own.delta, 1e-12);
  DOUBLES_EQUAL(0.0, d.next->delta, 1e-12);
}
