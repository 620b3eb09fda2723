// Clock trust in the store (§10): held readings are neither pending nor aggregated until
// ReleaseHeld re-stamps them (same boot, clock synchronised) or releases them as agent_unsynced
// (their boot ended unsynchronised).

#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/clock_hold.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/store/store_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_observer.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::kMicrosPerSecond;
using fieldsync::core::Reading;
using fieldsync::core::TimeUs;
using fieldsync::core::TsSource;
using namespace fieldsync::testing;
using namespace fieldsync::store;

namespace {

constexpr const char* kBootA = "aaaaaaaa-0000-0000-0000-000000000001";
constexpr const char* kBootB = "bbbbbbbb-0000-0000-0000-000000000002";

std::unique_ptr<Store> OpenStore(const TempDir& dir, fieldsync::core::Clock& clock) {
  auto store = Store::Open(dir.path(), StoreOptions{}, clock);
  CHECK_TEXT(store.has_value(), store ? "" : store.error().message.c_str());
  return std::move(*store);
}

// A frame the agent stamped at `ts` while unsynchronised, at boot time `boot_us`.
IngestFrame HeldFrame(const std::string& device, TimeUs ts, TimeUs boot_us, int metrics = 1) {
  IngestFrame frame = MakeFrame(device, ts, metrics);
  for (Reading& r : frame.readings) r.ts_source = TsSource::kAgentUnsynced;
  frame.held_boot_us = boot_us;
  return frame;
}

IngestBatch Batch(std::vector<IngestFrame> frames) {
  IngestBatch batch;
  batch.input = "serial1";
  batch.frames = std::move(frames);
  return batch;
}

StoreStats Stats(Store& store) {
  auto stats = store.Stats();
  CHECK_TRUE(stats.has_value());
  return *stats;
}

UploadBatch Pending(Store& store) {
  auto batch = store.OldestPending(1000);
  CHECK_TRUE(batch.has_value());
  return *batch;
}

HeldRelease Release(Store& store, bool trust = false) {
  auto released = store.ReleaseHeld(trust);
  CHECK_TEXT(released.has_value(), released ? "" : released.error().message.c_str());
  return *released;
}

}  // namespace

TEST_GROUP(ClockTrust) {
  TempDir dir;
  fieldsync::core::FakeClock clock;
  TestObserver observer;  // stands for the aggregates

  void setup() override {
    clock.SetBootId(kBootA);
    clock.SetSynchronized(false);
  }
  std::unique_ptr<Store> Open() {
    auto store = OpenStore(dir, clock);
    store->SetObserver(&observer);
    return store;
  }
};

TEST(ClockTrust, RestampFormulaCountsBackFromNow) {
  // Stamped at boot time 10 s; now boot time is 17 s and the synchronised wall clock says W.
  const TimeUs wall = kBaseTs + 3600 * kMicrosPerSecond;
  LONGLONGS_EQUAL(wall - 7 * kMicrosPerSecond,
                  RestampedTs(wall, 17 * kMicrosPerSecond, 10 * kMicrosPerSecond));
  LONGLONGS_EQUAL(wall, RestampedTs(wall, 17 * kMicrosPerSecond, 17 * kMicrosPerSecond));
}

TEST(ClockTrust, HeldReadingsAreNeitherPendingNorGivenToTheAggregates) {
  auto store = Open();
  auto result = store->Commit(Batch(
      {HeldFrame("dev1", kBaseTs, 10 * kMicrosPerSecond, 2), MakeFrame("dev1", kBaseTs + 1)}));
  CHECK_TRUE(result.has_value());
  LONGS_EQUAL(3, result->accepted);
  LONGS_EQUAL(2, result->held);
  CHECK_TRUE(result->frame_stored[0]);

  UploadBatch pending = Pending(*store);
  LONGS_EQUAL(1, static_cast<long>(pending.readings.size()));
  CHECK(pending.readings[0].ts_source == TsSource::kDevice);
  LONGS_EQUAL(1, observer.stored);  // the held frame is not pending yet

  StoreStats stats = Stats(*store);
  LONGS_EQUAL(1, stats.pending_readings);
  LONGS_EQUAL(2, stats.held_readings);
  LONGS_EQUAL(0, stats.clock_unsynced);
  LONGLONGS_EQUAL(kBaseTs + 1, *stats.oldest_pending_ts);  // the held kBaseTs is not pending
}

TEST(ClockTrust, StillUnsynchronisedTheyStayHeld) {
  auto store = Open();
  CHECK_TRUE(store->Commit(Batch({HeldFrame("dev1", kBaseTs, 10 * kMicrosPerSecond)})));
  HeldRelease released = Release(*store);
  LONGS_EQUAL(1, released.still_held);
  LONGS_EQUAL(0, released.restamped + released.unsynced + released.trusted);
  LONGS_EQUAL(1, Stats(*store).held_readings);
  LONGS_EQUAL(0, static_cast<long>(Pending(*store).readings.size()));
}

TEST(ClockTrust, SyncInTheSameBootRestampsFromBootTime) {
  auto store = Open();
  // FakeClock starts at boot time 10 s. Stamped unsynchronised at boot 10 s and 15 s.
  const TimeUs unsynced_wall = clock.NowUs();
  CHECK_TRUE(store->Commit(Batch({HeldFrame("dev1", unsynced_wall, clock.BootTimeUs(), 2)})));
  clock.Advance(5 * kMicrosPerSecond);
  CHECK_TRUE(store->Commit(Batch({HeldFrame("dev1", clock.NowUs(), clock.BootTimeUs(), 2)})));
  // timesyncd steps the wall clock an hour ahead and reports synchronisation; 2 s later we look.
  const TimeUs true_wall = unsynced_wall + 3600 * kMicrosPerSecond;
  clock.SetWallOnly(true_wall);
  clock.SetSynchronized(true);
  clock.Advance(2 * kMicrosPerSecond);  // wall = true_wall + 2 s, boot = 17 s
  observer.released.clear();

  HeldRelease released = Release(*store);
  LONGS_EQUAL(4, released.restamped);
  LONGS_EQUAL(0, released.bumped);
  LONGS_EQUAL(0, released.unsynced);

  // ts = now_wall - (now_boot - stamp_boot): (true_wall + 2 s) - (17 s - 10 s) and - (17 s - 15 s)
  const TimeUs first = true_wall - 5 * kMicrosPerSecond;
  const TimeUs second = true_wall;
  UploadBatch pending = Pending(*store);
  LONGS_EQUAL(4, static_cast<long>(pending.readings.size()));
  LONGLONGS_EQUAL(first, pending.readings[0].ts);
  LONGLONGS_EQUAL(first, pending.readings[1].ts);
  LONGLONGS_EQUAL(second, pending.readings[2].ts);
  LONGLONGS_EQUAL(second, pending.readings[3].ts);
  for (const Reading& r : pending.readings) CHECK(r.ts_source == TsSource::kAgent);
  // The receive time moves with the reading: it was received when it was stamped.
  LONGLONGS_EQUAL(first, pending.received_at[0]);

  // Released into the aggregates in the same transaction, with the new times.
  LONGS_EQUAL(4, static_cast<long>(observer.released.size()));
  LONGLONGS_EQUAL(first, observer.released[0].ts);
  LONGLONGS_EQUAL(second, observer.released[3].ts);
  CHECK(observer.released[3].ts_source == TsSource::kAgent);

  StoreStats stats = Stats(*store);
  LONGS_EQUAL(0, stats.held_readings);
  LONGS_EQUAL(4, stats.pending_readings);
  LONGS_EQUAL(0, stats.clock_unsynced);
  // A second release has nothing to do.
  HeldRelease again = Release(*store);
  LONGS_EQUAL(0, again.restamped + again.still_held);
}

TEST(ClockTrust, RestampedKeyThatIsTakenMovesForwardByMicroseconds) {
  auto store = Open();
  // Two held frames with the same boot time (two inputs, one instant), same device and metric.
  IngestFrame a = HeldFrame("dev1", kBaseTs, 10 * kMicrosPerSecond);
  IngestFrame b = HeldFrame("dev1", kBaseTs + 1, 10 * kMicrosPerSecond);
  CHECK_TRUE(store->Commit(Batch({a, b})));
  clock.SetSynchronized(true);
  clock.SetWallOnly(kBaseTs + 100 * kMicrosPerSecond);
  const TimeUs target = RestampedTs(clock.NowUs(), clock.BootTimeUs(), 10 * kMicrosPerSecond);
  // A device reading already pending exactly there.
  CHECK_TRUE(store->Commit(Batch({MakeFrame("dev1", target)})));

  HeldRelease released = Release(*store);
  LONGS_EQUAL(2, released.restamped);
  LONGS_EQUAL(2, released.bumped);
  UploadBatch pending = Pending(*store);
  LONGS_EQUAL(3, static_cast<long>(pending.readings.size()));
  LONGLONGS_EQUAL(target + 1, pending.readings[0].ts);  // arrival order kept
  LONGLONGS_EQUAL(target + 2, pending.readings[1].ts);
  LONGLONGS_EQUAL(target, pending.readings[2].ts);
  CHECK(pending.readings[2].ts_source == TsSource::kDevice);
}

TEST(ClockTrust, HeldFromABootThatEndedUnsynchronisedAreReleasedAsAgentUnsynced) {
  const TimeUs stamped = clock.NowUs();
  {
    auto store = Open();
    CHECK_TRUE(store->Commit(Batch({HeldFrame("dev1", stamped, 10 * kMicrosPerSecond, 3)})));
  }
  // Reboot: another boot id, boot time back near zero, the clock synchronised this time.
  clock.SetBootId(kBootB);
  clock.SetSynchronized(true);
  auto store = Open();
  LONGS_EQUAL(3, Stats(*store).held_readings);
  HeldRelease released = Release(*store);
  LONGS_EQUAL(3, released.unsynced);
  LONGS_EQUAL(0, released.restamped);

  UploadBatch pending = Pending(*store);
  LONGS_EQUAL(3, static_cast<long>(pending.readings.size()));
  for (const Reading& r : pending.readings) {
    LONGLONGS_EQUAL(stamped, r.ts);  // best-effort time kept
    CHECK(r.ts_source == TsSource::kAgentUnsynced);
  }
  LONGS_EQUAL(3, static_cast<long>(observer.released.size()));
  StoreStats stats = Stats(*store);
  LONGS_EQUAL(3, stats.clock_unsynced);
  LONGS_EQUAL(0, stats.held_readings);
  // The count survives a restart, and is not counted twice.
  store.reset();
  store = Open();
  LONGS_EQUAL(0, Release(*store).unsynced);
  LONGS_EQUAL(3, Stats(*store).clock_unsynced);
}

TEST(ClockTrust, EndedBootIsReleasedEvenWhileThisBootIsStillUnsynchronised) {
  {
    auto store = Open();
    CHECK_TRUE(store->Commit(Batch({HeldFrame("old", kBaseTs, 10 * kMicrosPerSecond)})));
  }
  clock.SetBootId(kBootB);
  auto store = Open();
  CHECK_TRUE(store->Commit(Batch({HeldFrame("new", kBaseTs + 5, 3 * kMicrosPerSecond)})));
  HeldRelease released = Release(*store);
  LONGS_EQUAL(1, released.unsynced);
  LONGS_EQUAL(1, released.still_held);
  UploadBatch pending = Pending(*store);
  LONGS_EQUAL(1, static_cast<long>(pending.readings.size()));
  STRCMP_EQUAL("old", pending.readings[0].device.c_str());
}

TEST(ClockTrust, TrustingTheCurrentBootReleasesAsStamped) {
  auto store = Open();
  CHECK_TRUE(store->Commit(Batch({HeldFrame("dev1", kBaseTs, 10 * kMicrosPerSecond)})));
  HeldRelease released = Release(*store, /*trust=*/true);
  LONGS_EQUAL(1, released.trusted);
  UploadBatch pending = Pending(*store);
  LONGS_EQUAL(1, static_cast<long>(pending.readings.size()));
  LONGLONGS_EQUAL(kBaseTs, pending.readings[0].ts);
  CHECK(pending.readings[0].ts_source == TsSource::kAgent);
  LONGS_EQUAL(0, Stats(*store).clock_unsynced);
}

TEST(ClockTrust, UnsyncedReadingsWithoutBootTimeArePendingAndCountedAtOnce) {
  // agent_unsynced readings that come without a boot time cannot be held: stored as they are.
  auto store = Open();
  IngestFrame frame = HeldFrame("dev1", kBaseTs, 0);
  frame.held_boot_us.reset();
  auto result = store->Commit(Batch({frame}));
  CHECK_TRUE(result.has_value());
  LONGS_EQUAL(0, result->held);
  LONGS_EQUAL(1, Stats(*store).pending_readings);
  LONGS_EQUAL(1, Stats(*store).clock_unsynced);
}

TEST(ClockTrust, HeldReadingsDroppedToMakeRoomForgetTheirHold) {
  auto store = OpenOneMebibyteStore(dir.path(), clock, OnFull::kDropOldest);
  CHECK(store != nullptr);
  store->SetObserver(&observer);
  CHECK_TRUE(store->Commit(Batch({HeldFrame("dev1", kBaseTs, 10 * kMicrosPerSecond, 2)})));
  // Several times what fits in 1 MiB: the held readings, the oldest, are dropped first.
  for (int b = 0; b < 60; ++b) {
    IngestBatch batch = MakeBatch("in", 100, kBaseTs + (b + 1) * 100 * kMicrosPerSecond, 7);
    CHECK_TRUE(store->Commit(batch).has_value());
  }
  CHECK(Stats(*store).dropped > 0);
  LONGS_EQUAL(0, Stats(*store).held_readings);
  LONGS_EQUAL(0, store->database().QueryInt64("SELECT count(*) FROM held_readings")->value_or(-1));
  std::size_t held = 0;
  for (const RemovedReading& r : observer.removed) held += r.held ? 1 : 0;
  LONGS_EQUAL(2, held);  // the observer was told which ones were held
}

TEST(ClockTrust, DeletingAHeldRowForgetsItsHold) {
  auto store = Open();
  CHECK_TRUE(store->Commit(Batch({HeldFrame("dev1", kBaseTs, 10 * kMicrosPerSecond, 2)})));
  // Removed through the store's one removal path, as drop_oldest does when the budget is reached.
  std::vector<std::int64_t> held;
  auto rows = store->database().Prepare("SELECT reading_id FROM held_readings");
  CHECK_TRUE(rows.has_value());
  while (*rows->Step()) held.push_back(rows->ColumnInt64(0));
  LONGS_EQUAL(2, held.size());
  CHECK_TRUE(store->DeleteUploaded(held));
  LONGS_EQUAL(0, Stats(*store).held_readings);
  clock.SetSynchronized(true);
  HeldRelease released = Release(*store);
  LONGS_EQUAL(0, released.restamped);
}
