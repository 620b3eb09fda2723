// Flash wear: bytes the store hands to write(2) per reading, for its insert and its later delete
// after upload, stay under the project's target of 326 (docs/store.md). Linux: /proc/self/io.

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/store/store_fixture.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::kMicrosPerSecond;
using namespace fieldsync::testing;
using namespace fieldsync::store;

namespace {

// Bytes this process passed to write-like system calls so far; -1 when unknown.
long long WrittenBytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  long long value = 0;
  while (in >> key >> value) {
    if (key == "wchar:") return value;
  }
  return -1;
}

}  // namespace

TEST_GROUP(Wear){};

TEST(Wear, InsertAndDeleteOfAReadingWriteLessThanTheTarget) {
  if (WrittenBytes() < 0) {
    std::printf("\n  SKIPPED wear test: /proc/self/io is not readable here\n");
    return;
  }
  TempDir dir;
  fieldsync::core::FakeClock clock;
  auto opened = Store::Open(dir.path(), StoreOptions{}, clock);
  CHECK_TRUE(opened.has_value());
  std::unique_ptr<Store> store = std::move(*opened);

  constexpr int kBatches = 200;
  constexpr int kFramesPerBatch = 50;  // grouped commits, as the inputs make them
  long long readings = 0;
  long long before = WrittenBytes();
  for (int b = 0; b < kBatches; ++b) {
    IngestBatch batch =
        MakeBatch("in", kFramesPerBatch, kBaseTs + b * kFramesPerBatch * kMicrosPerSecond, 7);
    // Sensor-like values: not integers (SQLite stores integral reals in fewer bytes).
    for (auto& frame : batch.frames) {
      for (auto& reading : frame.readings) reading.value += 0.0137 * double(reading.ts % 1000003);
    }
    auto result = store->Commit(batch);
    CHECK_TRUE(result.has_value());
    readings += result->accepted;
    if (b % 10 == 9) {
      auto upload = store->OldestPending(2500);
      CHECK_TRUE(upload.has_value());
      CHECK_TRUE(store->DeleteUploaded(upload->ids));
    }
  }
  while (true) {
    auto upload = store->OldestPending(2500);
    CHECK_TRUE(upload.has_value());
    if (upload->ids.empty()) break;
    CHECK_TRUE(store->DeleteUploaded(upload->ids));
  }
  double per_reading = double(WrittenBytes() - before) / double(readings);
  std::printf("\n  store wrote %.1f bytes per reading (insert + delete)\n", per_reading);
  CHECK_TEXT(per_reading < 326.0, std::to_string(per_reading).c_str());
  LONGS_EQUAL(kBatches * kFramesPerBatch * 7, readings);
}
