// The quarantine through the Store API: refused rows leave the outbox with the server's reason,
// are listed, retried back to pending or purged, survive a reopen, and a store of schema
// version 1 gains the quarantine on open without losing its readings.
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/counters.hpp"
#include "store/schema.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/store/store_fixture.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::FakeClock;
using fieldsync::testing::kBaseTs;
using fieldsync::testing::MakeBatch;
using fieldsync::testing::TempDir;
using namespace fieldsync::store;

namespace {

std::unique_ptr<Store> OpenStore(const TempDir& dir, FakeClock& clock) {
  auto store = Store::Open(dir.path(), StoreOptions{}, clock);
  CHECK_TEXT(store.has_value(), store ? "" : store.error().message.c_str());
  return std::move(*store);
}

std::int64_t Pending(Store& store) {
  auto stats = store.Stats();
  CHECK_TRUE(stats.has_value());
  return stats->pending_readings;
}

std::int64_t Quarantined(Store& store) {
  auto stats = store.Stats();
  CHECK_TRUE(stats.has_value());
  return stats->quarantined;
}

std::int64_t GlobalCounter(Store& store, std::string_view name) {
  auto counters = ReadGlobalCounters(store.database());
  CHECK_TRUE(counters.has_value());
  auto it = counters->find(std::string(name));
  return it == counters->end() ? 0 : it->second;
}

// Commits `frames` one-reading frames (values 1.0 at kBaseTs + i s) and returns their ids.
std::vector<std::int64_t> CommitReadings(Store& store, int frames) {
  auto committed = store.Commit(MakeBatch("in", frames, kBaseTs));
  CHECK_TRUE(committed.has_value());
  LONGS_EQUAL(frames, committed->accepted);
  auto batch = store.OldestPending(static_cast<std::size_t>(frames));
  CHECK_TRUE(batch.has_value());
  return batch->ids;
}

const char* kReason = "SQLSTATE 23514: new row violates check constraint \"value_small\"";

}  // namespace

TEST_GROUP(Quarantine) {
  TempDir dir;
  FakeClock clock;
};

TEST(Quarantine, MovesExactlyTheRefusedRowsOutOfTheOutbox) {
  auto store = OpenStore(dir, clock);
  std::vector<std::int64_t> ids = CommitReadings(*store, 5);
  auto moved = store->Quarantine({ids[1], ids[3]}, kReason, "23514");
  CHECK_TRUE(moved.has_value());
  LONGS_EQUAL(2, *moved);
  LONGS_EQUAL(3, Pending(*store));
  LONGS_EQUAL(2, Quarantined(*store));

  // The rest of the outbox is untouched and the refused rows are no longer offered for upload.
  auto pending = store->OldestPending(10);
  CHECK_TRUE(pending.has_value());
  CHECK_TRUE((std::vector<std::int64_t>{ids[0], ids[2], ids[4]}) == pending->ids);

  auto list = store->ListQuarantined(10);
  CHECK_TRUE(list.has_value());
  LONGS_EQUAL(2, list->size());
  const QuarantinedReading& q = (*list)[0];
  STRCMP_EQUAL("dev1", q.reading.device.c_str());
  STRCMP_EQUAL("m0", q.reading.metric.c_str());
  LONGS_EQUAL(kBaseTs + 1 * fieldsync::core::kMicrosPerSecond, q.reading.ts);
  DOUBLES_EQUAL(1.0, q.reading.value, 0.0);
  CHECK_TRUE(q.reading.ts_source == fieldsync::core::TsSource::kDevice);
  LONGS_EQUAL(clock.NowUs(), q.received_at);
  STRCMP_EQUAL(kReason, q.reason.c_str());
  STRCMP_EQUAL("23514", q.sqlstate.c_str());
  LONGS_EQUAL(clock.NowUs(), q.quarantined_at);
  LONGS_EQUAL(kBaseTs + 3 * fieldsync::core::kMicrosPerSecond, (*list)[1].reading.ts);
  CHECK_TRUE((*list)[0].id < (*list)[1].id);
}

TEST(Quarantine, IdsNoLongerPendingAreSkipped) {
  auto store = OpenStore(dir, clock);
  std::vector<std::int64_t> ids = CommitReadings(*store, 3);
  CHECK_TRUE(store->DeleteUploaded({ids[0]}));
  auto moved = store->Quarantine({ids[0], ids[1], 999999}, kReason, "23514");
  CHECK_TRUE(moved.has_value());
  LONGS_EQUAL(1, *moved);
  LONGS_EQUAL(1, Pending(*store));
  LONGS_EQUAL(1, Quarantined(*store));
}

TEST(Quarantine, ListHonoursTheLimitOldestFirst) {
  auto store = OpenStore(dir, clock);
  std::vector<std::int64_t> ids = CommitReadings(*store, 4);
  CHECK_TRUE(store->Quarantine({ids[2]}, kReason, "23514").has_value());
  clock.Advance(fieldsync::core::kMicrosPerSecond);
  CHECK_TRUE(store->Quarantine({ids[0], ids[1]}, "SQLSTATE 22003: out of range", "22003"));
  auto list = store->ListQuarantined(2);
  CHECK_TRUE(list.has_value());
  LONGS_EQUAL(2, list->size());
  LONGS_EQUAL(kBaseTs + 2 * fieldsync::core::kMicrosPerSecond, (*list)[0].reading.ts);
  STRCMP_EQUAL("22003", (*list)[1].sqlstate.c_str());
  LONGS_EQUAL(3, Quarantined(*store));
}

TEST(Quarantine, RetryMovesRowsBackToTheEndOfTheOutbox) {
  auto store = OpenStore(dir, clock);
  std::vector<std::int64_t> ids = CommitReadings(*store, 4);
  CHECK_TRUE(store->Quarantine({ids[0], ids[1]}, kReason, "23514").has_value());
  auto list = store->ListQuarantined(10);
  CHECK_TRUE(list.has_value());

  auto dry = store->RetryQuarantined(QuarantineSelection::Ids({(*list)[0].id}), true);
  CHECK_TRUE(dry.has_value());
  LONGS_EQUAL(1, dry->rows);
  LONGS_EQUAL(2, Quarantined(*store));
  LONGS_EQUAL(2, Pending(*store));

  auto retried = store->RetryQuarantined(QuarantineSelection::Ids({(*list)[0].id}), false);
  CHECK_TRUE(retried.has_value());
  LONGS_EQUAL(1, retried->rows);
  LONGS_EQUAL(0, retried->already_pending);
  LONGS_EQUAL(1, Quarantined(*store));
  LONGS_EQUAL(3, Pending(*store));
  auto pending = store->OldestPending(10);
  CHECK_TRUE(pending.has_value());
  // Back as the newest pending reading, with its own ts, value and receive time.
  LONGS_EQUAL(kBaseTs, pending->readings.back().ts);
  DOUBLES_EQUAL(1.0, pending->readings.back().value, 0.0);
  LONGS_EQUAL(clock.NowUs(), pending->received_at.back());

  auto all = store->RetryQuarantined(QuarantineSelection::All(), false);
  CHECK_TRUE(all.has_value());
  LONGS_EQUAL(1, all->rows);
  LONGS_EQUAL(0, Quarantined(*store));
  LONGS_EQUAL(4, Pending(*store));
}

TEST(Quarantine, RetryOfAKeyPendingAgainKeepsOnePendingReading) {
  auto store = OpenStore(dir, clock);
  std::vector<std::int64_t> ids = CommitReadings(*store, 2);
  CHECK_TRUE(store->Quarantine({ids[0]}, kReason, "23514").has_value());
  // The same key arrives again while the first is quarantined.
  auto again = store->Commit(MakeBatch("in", 1, kBaseTs));
  CHECK_TRUE(again.has_value());
  LONGS_EQUAL(1, again->accepted);
  auto retried = store->RetryQuarantined(QuarantineSelection::All(), false);
  CHECK_TRUE(retried.has_value());
  LONGS_EQUAL(1, retried->rows);
  LONGS_EQUAL(1, retried->already_pending);
  LONGS_EQUAL(2, Pending(*store));
  LONGS_EQUAL(0, Quarantined(*store));
}

TEST(Quarantine, UnknownIdsChangeNothing) {
  auto store = OpenStore(dir, clock);
  std::vector<std::int64_t> ids = CommitReadings(*store, 2);
  CHECK_TRUE(store->Quarantine(ids, kReason, "23514").has_value());
  auto list = store->ListQuarantined(10);
  CHECK_TRUE(list.has_value());
  auto purged = store->PurgeQuarantined(QuarantineSelection::Ids({(*list)[0].id, 4242}), false);
  CHECK_TRUE(purged.has_value());
  LONGS_EQUAL(0, purged->rows);
  LONGS_EQUAL(1, purged->unknown_ids.size());
  LONGS_EQUAL(4242, purged->unknown_ids[0]);
  LONGS_EQUAL(2, Quarantined(*store));
  auto retried = store->RetryQuarantined(QuarantineSelection::Ids({4242}), false);
  CHECK_TRUE(retried.has_value());
  LONGS_EQUAL(0, retried->rows);
  LONGS_EQUAL(0, Pending(*store));
}

TEST(Quarantine, PurgeDeletesAndCountsTheLoss) {
  auto store = OpenStore(dir, clock);
  std::vector<std::int64_t> ids = CommitReadings(*store, 3);
  CHECK_TRUE(store->Quarantine(ids, kReason, "23514").has_value());
  auto list = store->ListQuarantined(10);
  CHECK_TRUE(list.has_value());

  auto dry = store->PurgeQuarantined(QuarantineSelection::All(), true);
  CHECK_TRUE(dry.has_value());
  LONGS_EQUAL(3, dry->rows);
  LONGS_EQUAL(3, Quarantined(*store));
  LONGS_EQUAL(0, GlobalCounter(*store, kQuarantinePurgedCounter));

  auto one = store->PurgeQuarantined(QuarantineSelection::Ids({(*list)[1].id}), false);
  CHECK_TRUE(one.has_value());
  LONGS_EQUAL(1, one->rows);
  LONGS_EQUAL(2, Quarantined(*store));
  auto rest = store->PurgeQuarantined(QuarantineSelection::All(), false);
  CHECK_TRUE(rest.has_value());
  LONGS_EQUAL(2, rest->rows);
  LONGS_EQUAL(0, Quarantined(*store));
  LONGS_EQUAL(0, Pending(*store));
  LONGS_EQUAL(3, GlobalCounter(*store, kQuarantinePurgedCounter));

  // Ids are never reused: a new quarantined row does not take a purged row's id.
  std::vector<std::int64_t> more = CommitReadings(*store, 1);
  CHECK_TRUE(store->Quarantine(more, kReason, "23514").has_value());
  auto fresh = store->ListQuarantined(10);
  CHECK_TRUE(fresh.has_value());
  CHECK_TRUE((*fresh)[0].id > (*list)[2].id);
}

TEST(Quarantine, SurvivesAReopen) {
  {
    auto store = OpenStore(dir, clock);
    std::vector<std::int64_t> ids = CommitReadings(*store, 3);
    CHECK_TRUE(store->Quarantine({ids[0], ids[2]}, kReason, "23514").has_value());
  }
  auto store = OpenStore(dir, clock);
  LONGS_EQUAL(2, Quarantined(*store));
  LONGS_EQUAL(1, Pending(*store));
  auto list = store->ListQuarantined(10);
  CHECK_TRUE(list.has_value());
  LONGS_EQUAL(2, list->size());
  STRCMP_EQUAL(kReason, (*list)[1].reason.c_str());
}

TEST(Quarantine, AVersion1StoreGainsTheQuarantineAndKeepsItsReadings) {
  // A store as the version 1 code left it: its schema only, with pending readings.
  {
    auto db = Database::Open(dir.File("fieldsync.db"));
    CHECK_TRUE(db.has_value());
    CHECK_TRUE(MigrateSchema(**db, StoreMigrations().first(1)));
    LONGS_EQUAL(1, *SchemaVersion(**db));
    CHECK_TRUE(
        (*db)->Exec("INSERT INTO series(id, device, metric) VALUES(1, 'dev1', 'temp');"
                    "INSERT INTO readings(series_id, ts, value, ts_source, received_offset) VALUES"
                    "  (1, 946684800000000, 1.5, 0, 0), (1, 946684801000000, 2.5, 0, 0);"
                    "UPDATE counters SET n = 7 WHERE name = 'dropped';"));
  }
  auto store = OpenStore(dir, clock);
  auto version = SchemaVersion(store->database());
  CHECK_TRUE(version.has_value());
  LONGS_EQUAL(kSchemaVersion, *version);
  auto stats = store->Stats();
  CHECK_TRUE(stats.has_value());
  LONGS_EQUAL(2, stats->pending_readings);
  LONGS_EQUAL(7, stats->dropped);
  LONGS_EQUAL(0, stats->quarantined);

  auto pending = store->OldestPending(10);
  CHECK_TRUE(pending.has_value());
  auto moved = store->Quarantine({pending->ids[1]}, kReason, "23514");
  CHECK_TRUE(moved.has_value());
  LONGS_EQUAL(1, *moved);
  auto list = store->ListQuarantined(10);
  CHECK_TRUE(list.has_value());
  STRCMP_EQUAL("temp", (*list)[0].reading.metric.c_str());
  DOUBLES_EQUAL(2.5, (*list)[0].reading.value, 0.0);
  LONGS_EQUAL(1, Quarantined(*store));
  LONGS_EQUAL(1, Pending(*store));
}

TEST_GROUP(FrameCounts) {
  TempDir dir;
  FakeClock clock;
};

TEST(FrameCounts, EachFrameReportsItsOwnAcceptedAndDuplicates) {
  auto store = OpenStore(dir, clock);
  // Pending already: dev1 m0 and m1 at kBaseTs.
  auto first = store->Commit(MakeBatch("in", 1, kBaseTs, 2));
  CHECK_TRUE(first.has_value());
  IngestBatch batch;
  batch.input = "in";
  batch.frames.push_back(fieldsync::testing::MakeFrame("dev1", kBaseTs, 3));  // 2 dup, 1 new
  batch.frames.push_back(fieldsync::testing::MakeFrame("dev2", kBaseTs, 4));  // 4 new
  batch.frames.push_back(fieldsync::testing::MakeFrame("dev2", kBaseTs, 1));  // dup of frame 2
  auto result = store->Commit(batch);
  CHECK_TRUE(result.has_value());
  LONGS_EQUAL(3, result->frames.size());
  const std::int64_t expected[3][2] = {{1, 2}, {4, 0}, {0, 1}};
  for (std::size_t f = 0; f < 3; ++f) {
    CHECK_TRUE(result->frames[f].stored);
    CHECK_FALSE(result->frames[f].refused);
    LONGS_EQUAL(expected[f][0], result->frames[f].accepted);
    LONGS_EQUAL(expected[f][1], result->frames[f].duplicates);
  }
  LONGS_EQUAL(5, result->accepted);
  LONGS_EQUAL(3, result->duplicates);
}

TEST(FrameCounts, RefusedFramesAreMarkedAndCountNothing) {
  auto opened = fieldsync::testing::OpenOneMebibyteStore(dir.path(), clock, OnFull::kRejectNew);
  CHECK(opened != nullptr);
  Store& store = *opened;
  // Frames of 50 readings until the budget refuses one; the refused ones report nothing stored.
  bool refused_seen = false;
  for (int round = 0; round < 400 && !refused_seen; ++round) {
    IngestBatch batch =
        MakeBatch("in", 20, kBaseTs + round * 100 * fieldsync::core::kMicrosPerSecond, 50);
    auto result = store.Commit(batch);
    CHECK_TRUE(result.has_value());
    LONGS_EQUAL(20, result->frames.size());
    std::int64_t accepted = 0;
    for (const FrameCommit& frame : result->frames) {
      CHECK_TRUE(frame.stored != frame.refused);
      if (frame.refused) {
        refused_seen = true;
        LONGS_EQUAL(0, frame.accepted);
        LONGS_EQUAL(0, frame.duplicates);
      } else {
        LONGS_EQUAL(50, frame.accepted);
      }
      accepted += frame.accepted;
    }
    LONGS_EQUAL(result->accepted, accepted);
  }
  CHECK_TRUE(refused_seen);
}
