#include "drivers/seq_tracker.hpp"

#include <string>

#include <CppUTest/TestHarness.h>

using namespace fieldsync::drivers;

namespace {

void CheckObs(SeqObservation obs, SeqVerdict verdict, std::uint32_t lost) {
  CHECK(obs.verdict == verdict);
  LONGS_EQUAL(lost, obs.frames_lost);
}

}  // namespace

TEST_GROUP(SeqTracker) { SeqTracker tracker; };

TEST(SeqTracker, ConsecutiveSeqsAreNewWithNothingLost) {
  for (std::uint32_t s = 5; s < 10; ++s) CheckObs(tracker.Observe("uno", s), SeqVerdict::kNew, 0);
}

TEST(SeqTracker, ForwardGapCountsLostFrames) {
  tracker.Observe("uno", 10);
  CheckObs(tracker.Observe("uno", 11), SeqVerdict::kNew, 0);
  CheckObs(tracker.Observe("uno", 14), SeqVerdict::kNew, 2);
  CheckObs(tracker.Observe("uno", 1015), SeqVerdict::kNew, 1000);
}

TEST(SeqTracker, JumpBeyondOneThousandIsANewBaselineWithNothingLost) {
  tracker.Observe("uno", 10);
  CheckObs(tracker.Observe("uno", 1012), SeqVerdict::kNew, 0);
  CheckObs(tracker.Observe("uno", 1013), SeqVerdict::kNew, 0);
  // The old run is gone: going back to it is a restart, not a duplicate.
  CheckObs(tracker.Observe("uno", 11), SeqVerdict::kRestart, 0);
}

TEST(SeqTracker, RepeatOfASeenSeqIsADuplicate) {
  for (std::uint32_t s = 1; s <= 20; ++s) tracker.Observe("uno", s);
  CheckObs(tracker.Observe("uno", 20), SeqVerdict::kDuplicate, 0);
  CheckObs(tracker.Observe("uno", 3), SeqVerdict::kDuplicate, 0);
  // A duplicate does not move the counter.
  CheckObs(tracker.Observe("uno", 21), SeqVerdict::kNew, 0);
}

TEST(SeqTracker, DecreaseBelowTheRunIsARestart) {
  for (std::uint32_t s = 100; s <= 200; ++s) tracker.Observe("uno", s);
  CheckObs(tracker.Observe("uno", 5), SeqVerdict::kRestart, 0);
  CheckObs(tracker.Observe("uno", 6), SeqVerdict::kNew, 0);
  // After the restart, 150 belongs to no run yet: a forward step, nothing seen twice.
  CheckObs(tracker.Observe("uno", 150), SeqVerdict::kNew, 143);
}

TEST(SeqTracker, ZeroAfterAnythingIsARestartEvenIfZeroWasSeen) {
  for (std::uint32_t s = 0; s <= 300; ++s) tracker.Observe("uno", s);
  CheckObs(tracker.Observe("uno", 0), SeqVerdict::kRestart, 0);
  // The board's new run: 1, 2... are new although the previous run had them.
  CheckObs(tracker.Observe("uno", 1), SeqVerdict::kNew, 0);
  CheckObs(tracker.Observe("uno", 1), SeqVerdict::kDuplicate, 0);
  CheckObs(tracker.Observe("uno", 0), SeqVerdict::kRestart, 0);
}

TEST(SeqTracker, FirstFrameZeroRepeatedIsADuplicate) {
  tracker.Observe("uno", 0);
  CheckObs(tracker.Observe("uno", 0), SeqVerdict::kDuplicate, 0);
}

TEST(SeqTracker, MissingSeqArrivingLateIsLateNotARestart) {
  tracker.Observe("uno", 1);
  CheckObs(tracker.Observe("uno", 3), SeqVerdict::kNew, 1);
  CheckObs(tracker.Observe("uno", 2), SeqVerdict::kLate, 0);
  CheckObs(tracker.Observe("uno", 2), SeqVerdict::kDuplicate, 0);
  CheckObs(tracker.Observe("uno", 4), SeqVerdict::kNew, 0);
}

TEST(SeqTracker, WindowIsBounded) {
  for (std::uint32_t s = 1; s <= 3000; ++s) tracker.Observe("uno", s);
  CheckObs(tracker.Observe("uno", 3000 - kSeqWindow + 1), SeqVerdict::kDuplicate, 0);
  // Older than the window: treated as the start of a new run.
  CheckObs(tracker.Observe("uno", 3000 - kSeqWindow), SeqVerdict::kRestart, 0);
}

TEST(SeqTracker, DevicesAreTrackedSeparately) {
  tracker.Observe("a", 7);
  CheckObs(tracker.Observe("b", 7), SeqVerdict::kNew, 0);
  CheckObs(tracker.Observe("a", 7), SeqVerdict::kDuplicate, 0);
}

TEST(SeqTracker, ForgetStartsANewRun) {
  tracker.Observe("a", 7);
  tracker.Forget("a");
  CheckObs(tracker.Observe("a", 7), SeqVerdict::kNew, 0);
  tracker.ForgetAll();
  LONGS_EQUAL(0, tracker.device_count());
}

TEST(SeqTracker, WrapAroundIsARestart) {
  tracker.Observe("a", 4294967294u);
  CheckObs(tracker.Observe("a", 4294967295u), SeqVerdict::kNew, 0);
  CheckObs(tracker.Observe("a", 0), SeqVerdict::kRestart, 0);
}

TEST(SeqTracker, DeviceCountIsBoundedEvictingTheLeastRecent) {
  SeqTracker small(3);
  small.Observe("a", 1);
  small.Observe("b", 1);
  small.Observe("c", 1);
  small.Observe("a", 2);  // b is now the least recently seen
  small.Observe("d", 1);
  LONGS_EQUAL(3, small.device_count());
  CheckObs(small.Observe("a", 2), SeqVerdict::kDuplicate, 0);
  CheckObs(small.Observe("b", 1), SeqVerdict::kNew, 0);  // forgotten
}
