// The max_mb budget and both on_full policies, on a 1 MiB store.

#include <sys/stat.h>

#include <memory>
#include <set>
#include <string>

#include "core/clock.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/store/store_fixture.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::kMicrosPerSecond;
using namespace fieldsync::testing;
using namespace fieldsync::store;

namespace {

constexpr int kFramesPerBatch = 100;
constexpr int kMetrics = 7;
constexpr std::int64_t kMaxBytes = 1024 * 1024;

std::unique_ptr<Store> OpenSmall(const TempDir& dir, fieldsync::core::Clock& clock,
                                 OnFull on_full) {
  auto store = OpenOneMebibyteStore(dir.path(), clock, on_full);
  CHECK(store != nullptr);
  return store;
}

std::int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

void CheckIntegrity(Store& store) {
  auto check = store.database().QueryText("PRAGMA integrity_check");
  CHECK_TRUE(check.has_value());
  STRCMP_EQUAL("ok", check->value_or("").c_str());
}

}  // namespace

TEST_GROUP(OnFull) {
  TempDir dir;
  fieldsync::core::FakeClock clock;
};

TEST(OnFull, DropOldestKeepsTheNewestAndCountsEveryDroppedReading) {
  auto store = OpenSmall(dir, clock, OnFull::kDropOldest);
  std::int64_t accepted = 0;
  std::int64_t dropped = 0;
  // About four times what fits in 1 MiB.
  for (int b = 0; b < 120; ++b) {
    auto result = store->Commit(MakeBatch(
        "in", kFramesPerBatch, kBaseTs + b * kFramesPerBatch * kMicrosPerSecond, kMetrics));
    CHECK_TRUE(result.has_value());
    for (bool stored : result->frame_stored) CHECK_TRUE(stored);
    LONGS_EQUAL(0, result->refused_frames);
    accepted += result->accepted;
    dropped += result->dropped;
    CHECK(FileSize(dir.File("fieldsync.db")) <= kMaxBytes);
  }
  LONGS_EQUAL(120 * kFramesPerBatch * kMetrics, accepted);
  CHECK(dropped > 0);
  auto stats = store->Stats();
  CHECK_TRUE(stats.has_value());
  LONGS_EQUAL(dropped, stats->dropped);
  LONGS_EQUAL(accepted - dropped, stats->pending_readings);
  LONGS_EQUAL(0, stats->inputs["in"].rejected.count("store_full"));
  CHECK(stats->bytes <= stats->max_bytes);
  // What is left is the newest: the last batch is entirely pending, the first one is gone.
  auto all = store->OldestPending(static_cast<std::size_t>(stats->pending_readings));
  CHECK_TRUE(all.has_value());
  CHECK(all->readings.front().ts > kBaseTs + 50 * kFramesPerBatch * kMicrosPerSecond);
  LONGS_EQUAL(kBaseTs + (120 * kFramesPerBatch - 1) * kMicrosPerSecond, all->readings.back().ts);
  CheckIntegrity(*store);
}

TEST(OnFull, RejectNewRefusesWholeFramesAndRecoversAfterUpload) {
  auto store = OpenSmall(dir, clock, OnFull::kRejectNew);
  std::int64_t accepted = 0;
  std::int64_t refused = 0;
  std::set<fieldsync::core::TimeUs> refused_ts;
  for (int b = 0; b < 60; ++b) {
    IngestBatch batch = MakeBatch("in", kFramesPerBatch,
                                  kBaseTs + b * kFramesPerBatch * kMicrosPerSecond, kMetrics);
    auto result = store->Commit(batch);
    CHECK_TRUE(result.has_value());
    LONGS_EQUAL(0, result->dropped);
    for (std::size_t f = 0; f < batch.frames.size(); ++f) {
      if (!result->frame_stored[f]) refused_ts.insert(batch.frames[f].readings[0].ts);
    }
    accepted += result->accepted;
    refused += result->refused_frames;
    LONGS_EQUAL(static_cast<long>(refused_ts.size()), refused);
    CHECK(FileSize(dir.File("fieldsync.db")) <= kMaxBytes);
  }
  CHECK(refused > 0);
  auto stats = store->Stats();
  LONGS_EQUAL(0, stats->dropped);
  LONGS_EQUAL(accepted, stats->pending_readings);
  LONGS_EQUAL(refused, stats->inputs["in"].rejected.at("store_full"));
  LONGS_EQUAL(accepted / kMetrics + refused, 60 * kFramesPerBatch);
  // Refused frames left nothing behind: no reading of theirs is pending.
  auto all = store->OldestPending(static_cast<std::size_t>(stats->pending_readings));
  CHECK_TRUE(all.has_value());
  for (const auto& reading : all->readings) CHECK(refused_ts.count(reading.ts) == 0);
  CheckIntegrity(*store);

  // After an upload frees room, new frames are taken again.
  std::vector<std::int64_t> half(all->ids.begin(), all->ids.begin() + all->ids.size() / 2);
  CHECK_TRUE(store->DeleteUploaded(half));
  auto after = store->Commit(MakeBatch("in", 10, kBaseTs + 900'000 * kMicrosPerSecond, kMetrics));
  CHECK_TRUE(after.has_value());
  LONGS_EQUAL(10 * kMetrics, after->accepted);
  LONGS_EQUAL(0, after->refused_frames);
}
