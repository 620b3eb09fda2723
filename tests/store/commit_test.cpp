// Commit: grouped batches, dedupe of (device, metric, ts), all-or-nothing frames, counters.

#include <memory>
#include <string>

#include "core/clock.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/store/store_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_observer.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::Errc;
using fieldsync::core::Reading;
using fieldsync::core::RejectReason;
using fieldsync::core::TsSource;
using namespace fieldsync::testing;
using namespace fieldsync::store;

namespace {

std::unique_ptr<Store> OpenStore(const TempDir& dir, fieldsync::core::Clock& clock,
                                 StoreOptions options = {}) {
  auto store = Store::Open(dir.path(), options, clock);
  CHECK_TEXT(store.has_value(), store ? "" : store.error().message.c_str());
  return std::move(*store);
}

std::int64_t Pending(Store& store) {
  auto stats = store.Stats();
  CHECK_TRUE(stats.has_value());
  return stats->pending_readings;
}

UploadBatch OldestPending(Store& store, std::size_t limit) {
  auto batch = store.OldestPending(limit);
  CHECK_TRUE(batch.has_value());
  return std::move(*batch);
}

}  // namespace

TEST_GROUP(Commit) {
  TempDir dir;
  fieldsync::core::FakeClock clock;
};

TEST(Commit, StoresEveryReadingOfABatchAndReportsPerFrame) {
  auto store = OpenStore(dir, clock);
  auto result = store->Commit(MakeBatch("serial1", 3, kBaseTs, 7));
  CHECK_TRUE(result.has_value());
  LONGS_EQUAL(21, result->accepted);
  LONGS_EQUAL(0, result->duplicates);
  LONGS_EQUAL(3, static_cast<long>(result->frame_stored.size()));
  CHECK_TRUE(result->frame_stored[0] && result->frame_stored[1] && result->frame_stored[2]);
  LONGS_EQUAL(21, Pending(*store));
}

TEST(Commit, DuplicatesOfPendingReadingsAreCountedNotStored) {
  auto store = OpenStore(dir, clock);
  CHECK_TRUE(store->Commit(MakeBatch("serial1", 2, kBaseTs, 3)).has_value());
  // The same two frames again plus one new one: the old frames are all duplicates, yet durable.
  auto again = store->Commit(MakeBatch("serial1", 3, kBaseTs, 3));
  CHECK_TRUE(again.has_value());
  LONGS_EQUAL(3, again->accepted);
  LONGS_EQUAL(6, again->duplicates);
  CHECK_TRUE(again->frame_stored[0] && again->frame_stored[1] && again->frame_stored[2]);
  LONGS_EQUAL(9, Pending(*store));
  // The first value of a key wins.
  IngestBatch changed;
  changed.input = "serial1";
  changed.frames.push_back(MakeFrame("dev1", kBaseTs, 1, 99.0));
  CHECK_TRUE(store->Commit(changed).has_value());
  auto oldest = store->OldestPending(1);
  CHECK_TRUE(oldest.has_value());
  DOUBLES_EQUAL(1.0, oldest->readings[0].value, 0.0);
}

TEST(Commit, SameKeyTwiceInOneBatchIsOneReading) {
  auto store = OpenStore(dir, clock);
  IngestBatch batch;
  batch.input = "mqtt";
  batch.frames.push_back(MakeFrame("dev1", kBaseTs, 2));
  batch.frames.push_back(MakeFrame("dev1", kBaseTs, 2));
  batch.frames.push_back(MakeFrame("dev2", kBaseTs, 2));  // same ts, other device: distinct
  auto result = store->Commit(batch);
  CHECK_TRUE(result.has_value());
  LONGS_EQUAL(4, result->accepted);
  LONGS_EQUAL(2, result->duplicates);
}

TEST(Commit, ObserverIsToldOfNewlyStoredReadingsAndItsErrorRollsEverythingBack) {
  auto store = OpenStore(dir, clock);
  CHECK_TRUE(store->Commit(MakeBatch("in", 1, kBaseTs, 2)).has_value());
  fieldsync::testing::TestObserver observer;
  store->SetObserver(&observer);
  CHECK_TRUE(store->Commit(MakeBatch("in", 2, kBaseTs, 2)).has_value());
  LONGS_EQUAL(2, observer.stored);  // the first frame was all duplicates

  observer.on_stored = [](Database& db, std::size_t) {
    CHECK_TRUE(db.Exec("INSERT INTO meta(key, value) VALUES('hook', 'ran')"));
    return fieldsync::core::Status(fieldsync::core::MakeError(Errc::kInternal, "hook failed"));
  };
  auto before = store->Stats();
  auto failed = store->Commit(MakeBatch("in", 5, kBaseTs + 100 * 1'000'000, 2));
  CHECK_FALSE(failed.has_value());
  CHECK(failed.error().message.find("hook failed") != std::string::npos);
  auto after = store->Stats();
  LONGS_EQUAL(before->pending_readings, after->pending_readings);
  LONGS_EQUAL(before->inputs["in"].frames, after->inputs["in"].frames);
  auto hook_row = store->database().QueryText("SELECT value FROM meta WHERE key = 'hook'");
  CHECK_TRUE(hook_row.has_value());
  CHECK_FALSE(hook_row->has_value());
  // The series interned by the failed commit must not linger in the cache: later commits of
  // the same series still work.
  store->SetObserver(nullptr);
  auto retry = store->Commit(MakeBatch("in", 5, kBaseTs + 100 * 1'000'000, 2));
  CHECK_TRUE(retry.has_value());
  LONGS_EQUAL(10, retry->accepted);
}

TEST(Commit, FailureInsideAFrameStoresNoneOfTheBatch) {
  auto store = OpenStore(dir, clock);
  // The insert of the third reading of the second frame fails.
  CHECK_TRUE(store->database().Exec(
      "CREATE TEMP TRIGGER broken BEFORE INSERT ON readings "
      "WHEN (SELECT count(*) FROM readings) = 6 BEGIN SELECT RAISE(ABORT, 'insert broke'); END"));
  IngestBatch batch = MakeBatch("in", 2, kBaseTs, 4);
  batch.frames[1].readings[2].device = "newdev";  // a series created only by the failing frame
  auto result = store->Commit(batch);
  CHECK_FALSE(result.has_value());
  LONGS_EQUAL(0, Pending(*store));
  CHECK_TRUE(store->database().Exec("DROP TRIGGER temp.broken"));
  CHECK_TRUE(store->Commit(batch).has_value());
  LONGS_EQUAL(8, Pending(*store));
}

TEST(Commit, AReadingWhoseKeyIsKeptForTheLateWindowIsADuplicate) {
  auto store = OpenStore(dir, clock);
  CHECK_TRUE(store->Commit(MakeBatch("in", 2, kBaseTs, 3)).has_value());
  // As the aggregates keep them after an upload: the keys of metric m1 stay, as they were,
  // naming readings that are gone.
  CHECK_TRUE(
      store->database().Exec("DELETE FROM readings WHERE series_id IN "
                             "(SELECT id FROM series WHERE metric = 'm1')"));
  LONGS_EQUAL(6, store->database().QueryInt64("SELECT count(*) FROM reading_keys")->value_or(0));
  auto result = store->Commit(MakeBatch("in", 2, kBaseTs, 3));
  CHECK_TRUE(result.has_value());
  LONGS_EQUAL(0, result->accepted);
  LONGS_EQUAL(6, result->duplicates);
  LONGS_EQUAL(4, Pending(*store));
  // Without a kept key the same reading is new again.
  CHECK_TRUE(store->database().Exec(std::string("DELETE FROM reading_keys WHERE NOT ") +
                                    fieldsync::store::kKeyIsPending));
  result = store->Commit(MakeBatch("in", 2, kBaseTs, 3));
  CHECK_TRUE(result.has_value());
  LONGS_EQUAL(2, result->accepted);
  LONGS_EQUAL(4, result->duplicates);
}

TEST(Commit, NewIdsStayAboveTheObserversFloorWhenTheNewestRowsWereDeleted) {
  auto store = OpenStore(dir, clock);
  CHECK_TRUE(store->Commit(MakeBatch("in", 2, kBaseTs, 2)).has_value());
  UploadBatch all = OldestPending(*store, 100);
  CHECK_TRUE(store->DeleteUploaded(all.ids).has_value());  // the outbox is empty again
  fieldsync::testing::TestObserver observer;
  observer.id_floor = 40;
  store->SetObserver(&observer);
  CHECK_TRUE(store->Commit(MakeBatch("in", 1, kBaseTs + 10 * 1'000'000, 2)).has_value());
  UploadBatch next = OldestPending(*store, 100);
  LONGS_EQUAL(2, static_cast<long>(next.ids.size()));
  LONGLONGS_EQUAL(41, next.ids[0]);  // SQLite alone would have reused id 1
  LONGLONGS_EQUAL(42, next.ids[1]);
  // Deleting settles first, through the newest id deleted.
  CHECK_TRUE(store->DeleteUploaded(next.ids).has_value());
  LONGS_EQUAL(1, static_cast<long>(observer.settled.size()));
  LONGLONGS_EQUAL(42, observer.settled[0]);
}

TEST(Commit, CountersAddUpAndSurviveReopen) {
  {
    auto store = OpenStore(dir, clock);
    IngestBatch batch = MakeBatch("serial1", 2, kBaseTs, 3);
    batch.rejected[RejectReason::kParse] = 4;
    batch.rejected[RejectReason::kBadTs] = 1;
    batch.duplicates = 2;  // seq resends seen by the input
    batch.frames_lost = 3;
    batch.fields_ignored = 5;
    batch.last_frame_at = kBaseTs + 7;
    batch.frames[1].readings[0].ts_source = TsSource::kAgentUnsynced;
    CHECK_TRUE(store->Commit(batch).has_value());
    IngestBatch second = MakeBatch("serial1", 3, kBaseTs, 3);  // 2 frames of duplicates
    second.rejected[RejectReason::kParse] = 1;
    CHECK_TRUE(store->Commit(second).has_value());
    CHECK_TRUE(store->Commit(MakeBatch("http", 1, kBaseTs + 999'000'000, 1)).has_value());
  }
  auto store = OpenStore(dir, clock);
  auto stats = store->Stats();
  CHECK_TRUE(stats.has_value());
  LONGS_EQUAL(2, static_cast<long>(stats->inputs.size()));
  const InputCounters& serial = stats->inputs["serial1"];
  LONGS_EQUAL(5, serial.frames);
  LONGS_EQUAL(9, serial.readings);
  LONGS_EQUAL(2 + 6, serial.duplicates);
  LONGS_EQUAL(3, serial.frames_lost);
  LONGS_EQUAL(5, serial.fields_ignored);
  LONGS_EQUAL(5, serial.rejected.at("parse"));
  LONGS_EQUAL(1, serial.rejected.at("bad_ts"));
  CHECK_TRUE(serial.last_frame_at.has_value());
  LONGS_EQUAL(kBaseTs + 7, *serial.last_frame_at);  // a batch without last_frame_at keeps it
  LONGS_EQUAL(1, stats->inputs["http"].readings);
  LONGS_EQUAL(8, stats->duplicates);
  LONGS_EQUAL(1, stats->clock_unsynced);
  LONGS_EQUAL(0, stats->dropped);
  LONGS_EQUAL(10, stats->pending_readings);
  CHECK_TRUE(stats->oldest_pending_ts.has_value());
  LONGS_EQUAL(kBaseTs, *stats->oldest_pending_ts);
  CHECK(stats->bytes > 0);
  LONGS_EQUAL(1024LL * 1024 * 1024, stats->max_bytes);
}

TEST(Commit, InstanceIdIsStableAcrossReopenAndDiffersBetweenStores) {
  std::string first;
  {
    auto store = OpenStore(dir, clock);
    first = store->instance_id();
  }
  LONGS_EQUAL(36, static_cast<long>(first.size()));
  auto reopened = OpenStore(dir, clock);
  STRCMP_EQUAL(first.c_str(), reopened->instance_id().c_str());
  TempDir other_dir;
  auto other = OpenStore(other_dir, clock);
  CHECK(other->instance_id() != first);
}

TEST(Commit, DurabilityModeFollowsTheOptions) {
  StoreOptions options;
  options.synchronous = Synchronous::kFull;
  {
    auto store = OpenStore(dir, clock, options);
    auto mode = store->database().QueryInt64("PRAGMA synchronous");
    CHECK_TRUE(mode.has_value());
    LONGS_EQUAL(2, mode->value_or(-1));  // FULL: the WAL is synced at every commit
  }
  options.synchronous = Synchronous::kNormal;
  auto store = OpenStore(dir, clock, options);
  auto mode = store->database().QueryInt64("PRAGMA synchronous");
  CHECK_TRUE(mode.has_value());
  LONGS_EQUAL(1, mode->value_or(-1));  // NORMAL
  auto journal = store->database().QueryText("PRAGMA journal_mode");
  STRCMP_EQUAL("wal", journal->value_or("").c_str());
}

TEST(Commit, MaxMbBelowOneIsRefused) {
  StoreOptions options;
  options.max_mb = 0;
  auto store = Store::Open(dir.path(), options, clock);
  CHECK_FALSE(store.has_value());
  CHECK(store.error().code == Errc::kInvalidArgument);
}
