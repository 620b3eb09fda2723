// A real full disk: a 2 MiB tmpfs mounted under the test's directory (root only; skipped with a
// message otherwise). The store's budget is far larger than the disk, so ENOSPC is what stops it.

#include <cstdio>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/store/store_fixture.hpp"
#include "tests/support/small_filesystem.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::kMicrosPerSecond;
using namespace fieldsync::testing;
using namespace fieldsync::store;

namespace {

void CheckIntegrity(Store& store) {
  auto check = store.database().QueryText("PRAGMA integrity_check");
  CHECK_TRUE(check.has_value());
  STRCMP_EQUAL("ok", check->value_or("").c_str());
}

std::unique_ptr<Store> OpenOn(const std::string& dir, fieldsync::core::Clock& clock,
                              OnFull on_full) {
  StoreOptions options;
  options.max_mb = 64;  // the disk, not the budget, is the limit here
  options.on_full = on_full;
  auto store = Store::Open(dir, options, clock);
  CHECK_TEXT(store.has_value(), store ? "" : store.error().message.c_str());
  return std::move(*store);
}

}  // namespace

TEST_GROUP(DiskFull) {
  TempDir dir;
  fieldsync::core::FakeClock clock;
};

TEST(DiskFull, RejectNewRefusesCountsAndRecoversWhenSpaceIsFreed) {
  SmallFilesystem fs(dir, "2m");
  if (!fs.mounted()) return;
  fs.WriteFiller("filler", 1024 * 1024);
  std::string state = fs.path() + "/state";
  auto store = OpenOn(state, clock, OnFull::kRejectNew);

  std::int64_t accepted = 0;
  std::int64_t refused = 0;
  int batches = 0;
  for (; batches < 200 && refused == 0; ++batches) {
    auto result = store->Commit(MakeBatch("in", 50, kBaseTs + batches * 50 * kMicrosPerSecond, 7));
    CHECK_TEXT(result.has_value(), result ? "" : result.error().message.c_str());
    accepted += result->accepted;
    refused += result->refused_frames;
  }
  CHECK_TEXT(refused > 0, "the disk never filled up");
  CheckIntegrity(*store);
  auto stats = store->Stats();
  CHECK_TRUE(stats.has_value());
  LONGS_EQUAL(accepted, stats->pending_readings);
  LONGS_EQUAL(refused, stats->inputs["in"].rejected.at("store_full"));
  LONGS_EQUAL(0, stats->dropped);

  // Space comes back: new frames are stored again, nothing earlier was lost.
  CHECK(fs.RemoveFiller("filler"));
  auto after = store->Commit(MakeBatch("in", 50, kBaseTs + 900'000 * kMicrosPerSecond, 7));
  CHECK_TRUE(after.has_value());
  LONGS_EQUAL(350, after->accepted);
  LONGS_EQUAL(accepted + 350, store->Stats()->pending_readings);

  // And the store reopens cleanly.
  store.reset();
  store = OpenOn(state, clock, OnFull::kRejectNew);
  CheckIntegrity(*store);
  LONGS_EQUAL(accepted + 350, store->Stats()->pending_readings);
}

TEST(DiskFull, DropOldestMakesRoomAndCountsDropped) {
  SmallFilesystem fs(dir, "2m");
  if (!fs.mounted()) return;
  fs.WriteFiller("filler", 1024 * 1024);
  std::string state = fs.path() + "/state";
  auto store = OpenOn(state, clock, OnFull::kDropOldest);

  std::int64_t accepted = 0;
  std::int64_t dropped = 0;
  std::int64_t refused = 0;
  for (int b = 0; b < 120; ++b) {
    auto result = store->Commit(MakeBatch("in", 50, kBaseTs + b * 50 * kMicrosPerSecond, 7));
    CHECK_TEXT(result.has_value(), result ? "" : result.error().message.c_str());
    accepted += result->accepted;
    dropped += result->dropped;
    refused += result->refused_frames;
  }
  CHECK_TEXT(dropped > 0, "the disk never filled up");
  CheckIntegrity(*store);
  auto stats = store->Stats();
  CHECK_TRUE(stats.has_value());
  LONGS_EQUAL(dropped, stats->dropped);
  LONGS_EQUAL(accepted - dropped, stats->pending_readings);
  std::int64_t counted_refused = stats->inputs["in"].rejected.count("store_full")
                                     ? stats->inputs["in"].rejected["store_full"]
                                     : 0;
  LONGS_EQUAL(refused, counted_refused);
  // The newest batch is in.
  auto all = store->OldestPending(static_cast<std::size_t>(stats->pending_readings));
  LONGS_EQUAL(kBaseTs + (120 * 50 - 1) * kMicrosPerSecond, all->readings.back().ts);
}
