#include "sync/sync_schedule.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldsync::sync;

namespace {

constexpr fieldsync::core::TimeUs kSecond = 1'000'000;

std::int64_t Highest(std::int64_t max_inclusive) { return max_inclusive; }

CycleReport Ok(bool more_pending, std::int64_t inserted = 0) {
  CycleReport r;
  r.more_pending = more_pending;
  r.inserted = inserted;
  return r;
}

CycleReport Failed(UploadOutcome outcome, const char* message) {
  CycleReport r;
  r.outcome = outcome;
  r.message = message;
  return r;
}

}  // namespace

TEST_GROUP(SyncSchedule){};

TEST(SyncSchedule, FirstCycleRunsAtOnceThenEveryInterval) {
  SyncSchedule s(5, Backoff(1000, 300, Highest));
  LONGS_EQUAL(0, s.NextCycleAt());
  s.Record(Ok(false, 3), 100 * kSecond, 7);
  LONGS_EQUAL(105 * kSecond, s.NextCycleAt());
  CHECK(s.last_sync().ok);
  LONGS_EQUAL(7, *s.last_sync().at);
  LONGS_EQUAL(3, s.last_sync().inserted);
}

TEST(SyncSchedule, FullBatchMeansRunAgainNow) {
  SyncSchedule s(5, Backoff(1000, 300, Highest));
  s.Record(Ok(true), 100 * kSecond, 0);
  LONGS_EQUAL(100 * kSecond, s.NextCycleAt());
}

TEST(SyncSchedule, WakeBringsTheNextCycleForward) {
  SyncSchedule s(60, Backoff(1000, 300, Highest));
  s.Record(Ok(false), 100 * kSecond, 0);
  s.Wake(110 * kSecond);
  LONGS_EQUAL(110 * kSecond, s.NextCycleAt());
}

TEST(SyncSchedule, FailuresBackOffAndWakeDoesNotHurryThem) {
  SyncSchedule s(5, Backoff(1000, 300, Highest));
  s.Record(Failed(UploadOutcome::kRetry, "connection refused"), 100 * kSecond, 0);
  LONGS_EQUAL(101 * kSecond, s.NextCycleAt());
  s.Record(Failed(UploadOutcome::kRetry, "connection refused"), 101 * kSecond, 0);
  LONGS_EQUAL(103 * kSecond, s.NextCycleAt());
  s.Wake(102 * kSecond);
  LONGS_EQUAL(103 * kSecond, s.NextCycleAt());
  CHECK(s.backing_off());
  CHECK_FALSE(s.last_sync().ok);
  STRCMP_EQUAL("connection refused", s.last_sync().error.c_str());
}

TEST(SyncSchedule, SuccessClearsTheErrorAndResetsTheBackoff) {
  SyncSchedule s(5, Backoff(1000, 300, Highest));
  s.Record(Failed(UploadOutcome::kError, "permission denied"), 100 * kSecond, 0);
  s.Record(Failed(UploadOutcome::kError, "permission denied"), 101 * kSecond, 0);
  s.Record(Ok(false), 103 * kSecond, 0);
  STRCMP_EQUAL("", s.last_sync().error.c_str());
  CHECK_FALSE(s.backing_off());
  s.Record(Failed(UploadOutcome::kRetry, "timeout"), 200 * kSecond, 0);
  LONGS_EQUAL(201 * kSecond, s.NextCycleAt());  // back to the first step
}
