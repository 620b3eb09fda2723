// The outbox side: OldestPending hands out the oldest rows, DeleteUploaded removes exactly them.

#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/store/store_fixture.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::kMicrosPerSecond;
using fieldsync::core::TsSource;
using namespace fieldsync::testing;
using namespace fieldsync::store;

TEST_GROUP(Outbox) {
  TempDir dir;
  fieldsync::core::FakeClock clock;
  std::unique_ptr<Store> store;

  void setup() override {
    auto opened = Store::Open(dir.path(), StoreOptions{}, clock);
    CHECK_TRUE(opened.has_value());
    store = std::move(*opened);
  }
  void teardown() override { store.reset(); }
};

TEST(Outbox, OldestPendingIsInInsertionOrderWithEveryField) {
  // Inserted out of ts order on purpose: upload order is arrival order.
  IngestBatch first;
  first.input = "in";
  first.frames.push_back(MakeFrame("b", kBaseTs + 50 * kMicrosPerSecond, 2));
  first.frames[0].readings[1].ts_source = TsSource::kAgent;
  CHECK_TRUE(store->Commit(first).has_value());
  clock.Advance(kMicrosPerSecond);
  CHECK_TRUE(store->Commit(MakeBatch("in", 2, kBaseTs, 1)).has_value());

  auto batch = store->OldestPending(3);
  CHECK_TRUE(batch.has_value());
  LONGS_EQUAL(3, static_cast<long>(batch->ids.size()));
  LONGS_EQUAL(3, static_cast<long>(batch->readings.size()));
  LONGS_EQUAL(3, static_cast<long>(batch->received_at.size()));
  CHECK(batch->ids[0] < batch->ids[1] && batch->ids[1] < batch->ids[2]);
  CHECK(batch->readings[0] == MakeReading("b", "m0", kBaseTs + 50 * kMicrosPerSecond, 1.0));
  CHECK(batch->readings[1].ts_source == TsSource::kAgent);
  STRCMP_EQUAL("m1", batch->readings[1].metric.c_str());
  CHECK(batch->readings[2] == MakeReading("dev1", "m0", kBaseTs, 1.0));
  LONGS_EQUAL(batch->received_at[0] + kMicrosPerSecond, batch->received_at[2]);

  auto all = store->OldestPending(100);
  CHECK_TRUE(all.has_value());
  LONGS_EQUAL(4, static_cast<long>(all->ids.size()));
}

TEST(Outbox, DeleteUploadedRemovesExactlyTheGivenRows) {
  CHECK_TRUE(store->Commit(MakeBatch("in", 10, kBaseTs, 1)).has_value());
  auto batch = store->OldestPending(4);
  CHECK_TRUE(batch.has_value());
  // Rows arriving between upload and delete must survive, even ones that sort in between.
  CHECK_TRUE(store->Commit(MakeBatch("in", 3, kBaseTs + 100 * kMicrosPerSecond, 1)).has_value());
  // Delete a non-contiguous subset: ids 0, 1 and 3 of the batch, not 2.
  std::vector<std::int64_t> uploaded = {batch->ids[0], batch->ids[1], batch->ids[3]};
  CHECK_TRUE(store->DeleteUploaded(uploaded));

  auto rest = store->OldestPending(100);
  CHECK_TRUE(rest.has_value());
  LONGS_EQUAL(13 - 3, static_cast<long>(rest->ids.size()));
  LONGS_EQUAL(batch->ids[2], rest->ids[0]);
  for (std::int64_t id : rest->ids) {
    CHECK(id != uploaded[0] && id != uploaded[1] && id != uploaded[2]);
  }
  // Deleting the same ids again is harmless and deletes nothing else.
  CHECK_TRUE(store->DeleteUploaded(uploaded));
  auto stats = store->Stats();
  LONGS_EQUAL(10, stats->pending_readings);
  LONGS_EQUAL(0, stats->dropped);
}

TEST(Outbox, UploadedKeyMayArriveAgainAndIsPendingAgain) {
  CHECK_TRUE(store->Commit(MakeBatch("in", 1, kBaseTs, 1)).has_value());
  auto batch = store->OldestPending(10);
  CHECK_TRUE(store->DeleteUploaded(batch->ids));
  auto again = store->Commit(MakeBatch("in", 1, kBaseTs, 1));
  CHECK_TRUE(again.has_value());
  LONGS_EQUAL(1, again->accepted);  // the remote skips it; locally it is no longer pending
  auto stats = store->Stats();
  LONGS_EQUAL(1, stats->pending_readings);
}

TEST(Outbox, EmptyStoreHasNoOldestTs) {
  auto stats = store->Stats();
  CHECK_TRUE(stats.has_value());
  LONGS_EQUAL(0, stats->pending_readings);
  CHECK_FALSE(stats->oldest_pending_ts.has_value());
  auto batch = store->OldestPending(10);
  CHECK_TRUE(batch.has_value());
  CHECK_TRUE(batch->ids.empty());
}

TEST(Outbox, OldestTsIsThatOfTheOldestPendingReadingWhateverKeysAreKeptBeforeIt) {
  auto oldest = [&]() {
    auto stats = store->Stats();
    CHECK_TRUE(stats.has_value());
    return stats->oldest_pending_ts;
  };
  CHECK_TRUE(store->Commit(MakeBatch("in", 4, kBaseTs, 1)).has_value());
  LONGLONGS_EQUAL(kBaseTs, *oldest());
  // The first two leave the outbox, their keys kept (as the aggregates keep the late window).
  CHECK_TRUE(store->database().Exec("UPDATE reading_keys SET reading_id = NULL WHERE ts < " +
                                    std::to_string(kBaseTs + 2 * kMicrosPerSecond)));
  CHECK_TRUE(store->database().Exec("DELETE FROM readings WHERE ts < " +
                                    std::to_string(kBaseTs + 2 * kMicrosPerSecond)));
  LONGLONGS_EQUAL(kBaseTs + 2 * kMicrosPerSecond, *oldest());
  // A reading older than everything pending (and than the kept keys).
  CHECK_TRUE(store->Commit(MakeBatch("in", 1, kBaseTs - 10 * kMicrosPerSecond, 1)));
  LONGLONGS_EQUAL(kBaseTs - 10 * kMicrosPerSecond, *oldest());
  auto all = store->OldestPending(10);
  CHECK_TRUE(store->DeleteUploaded(all->ids));
  CHECK_FALSE(oldest().has_value());
  CHECK_TRUE(store->Commit(MakeBatch("in", 1, kBaseTs - 20 * kMicrosPerSecond, 1)));
  LONGLONGS_EQUAL(kBaseTs - 20 * kMicrosPerSecond, *oldest());
}

TEST(Outbox, OldestTsIsRightOnAConnectionThatDoesNotStoreTheReadings) {
  // As the sync loop's own connection reads what the ingest connection stores.
  auto opened = Store::Open(dir.path(), StoreOptions{}, clock);
  CHECK_TRUE(opened.has_value());
  std::unique_ptr<Store> reader = std::move(*opened);
  auto oldest = [&]() {
    auto stats = reader->Stats();
    CHECK_TRUE(stats.has_value());
    return stats->oldest_pending_ts;
  };
  CHECK_FALSE(oldest().has_value());
  CHECK_TRUE(store->Commit(MakeBatch("in", 3, kBaseTs, 1)).has_value());
  LONGLONGS_EQUAL(kBaseTs, *oldest());
  auto first = store->OldestPending(1);
  CHECK_TRUE(store->DeleteUploaded(first->ids));
  LONGLONGS_EQUAL(kBaseTs + kMicrosPerSecond, *oldest());
  // A late reading stored below the reader's floor is found once nothing is pending above it.
  auto rest = store->OldestPending(10);
  CHECK_TRUE(store->DeleteUploaded(rest->ids));
  CHECK_TRUE(store->Commit(MakeBatch("in", 1, kBaseTs - 60 * kMicrosPerSecond, 1)).has_value());
  LONGLONGS_EQUAL(kBaseTs - 60 * kMicrosPerSecond, *oldest());
}
