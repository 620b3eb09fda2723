// The seq window the serial inputs are primed from after a restart (store/seq_window.hpp): written
// with each stored frame by Store::Commit, trimmed to the tracker's window per (input, device).
#include <CppUTest/TestHarness.h>

#include <set>
#include <string>
#include <vector>

#include "drivers/seq_tracker.hpp"
#include "store/seq_window.hpp"
#include "store/store.hpp"
#include "tests/drivers/serial/lazy_globals.hpp"
#include "tests/support/temp_dir.hpp"

using namespace fieldsync;

namespace {

store::IngestFrame SeqFrame(const std::string& device, std::uint32_t seq, core::TimeUs ts) {
  store::IngestFrame frame({core::Reading{device, "t", ts, 1.0, core::TsSource::kAgent}});
  frame.seq = seq;
  return frame;
}

}  // namespace

TEST_GROUP(SeqHistory) {
  testing::TempDir dir;
  core::FakeClock clock{1'750'000'000'000'000};
};

TEST(SeqHistory, StoredFramesKeepTheirSeqPerInputAndDeviceInOrderUpToTheWindow) {
  auto opened = store::Store::Open(dir.path(), store::StoreOptions{}, clock);
  CHECK(opened.has_value());
  store::Store& st = **opened;
  store::IngestBatch batch;
  batch.input = "arduino1";
  const std::uint32_t total = drivers::kSeqWindow + 300;
  for (std::uint32_t s = 1; s <= total; ++s) {
    batch.frames.push_back(SeqFrame("uno", s, 1'750'000'000'000'000 + s));
  }
  batch.frames.push_back(SeqFrame("mega", 7, 1'750'000'000'000'000));
  store::IngestFrame untracked(
      {core::Reading{"uno", "t", 1'740'000'000'000'000, 2.0, core::TsSource::kAgent}});
  batch.frames.push_back(untracked);  // no seq: nothing recorded
  CHECK(st.Commit(batch).has_value());
  store::IngestBatch other;
  other.input = "arduino2";
  other.frames.push_back(SeqFrame("uno", 99, 1'760'000'000'000'000));
  CHECK(st.Commit(other).has_value());

  auto kept = store::RecentFrameSeqs(st, "arduino1");
  CHECK(kept.has_value());
  LONGS_EQUAL(drivers::kSeqWindow + 1, kept->size());  // the newest window of uno, and mega's
  std::uint32_t expected = total - drivers::kSeqWindow + 1;
  for (const auto& r : *kept) {
    if (r.device == "mega") {
      LONGS_EQUAL(7, r.seq);
      continue;
    }
    STRCMP_EQUAL("uno", r.device.c_str());
    LONGS_EQUAL(expected, r.seq);
    ++expected;
  }
  LONGS_EQUAL(total + 1, expected);
  auto two = store::RecentFrameSeqs(st, "arduino2");
  CHECK(two.has_value());
  LONGS_EQUAL(1, two->size());

  // Replayed into a tracker, the window answers a resend as a duplicate and the next as new.
  drivers::SeqTracker tracker;
  for (const auto& r : *kept) tracker.Observe(r.device, r.seq);
  CHECK(tracker.Observe("uno", total).verdict == drivers::SeqVerdict::kDuplicate);
  CHECK(tracker.Observe("uno", total - 500).verdict == drivers::SeqVerdict::kDuplicate);
  auto next = tracker.Observe("uno", total + 1);
  CHECK(next.verdict == drivers::SeqVerdict::kNew);
  LONGS_EQUAL(0, next.frames_lost);
}

TEST(SeqHistory, AFrameTheStoreRefusesLeavesNoSeq) {
  store::StoreOptions options;
  options.max_mb = 1;
  options.on_full = store::OnFull::kRejectNew;
  auto opened = store::Store::Open(dir.path(), options, clock);
  CHECK(opened.has_value());
  store::Store& st = **opened;
  // Fill the store until it refuses, then check the refused frames' seqs are not recorded.
  std::uint32_t seq = 0;
  bool refused = false;
  for (int round = 0; round < 200 && !refused; ++round) {
    store::IngestBatch batch;
    batch.input = "arduino1";
    for (int i = 0; i < 500; ++i) {
      ++seq;
      store::IngestFrame f = SeqFrame("uno", seq, 1'750'000'000'000'000 + seq);
      for (int m = 0; m < 8; ++m) {
        f.readings.push_back(core::Reading{"uno", "m" + std::to_string(m),
                                           1'750'000'000'000'000 + seq, 1.0,
                                           core::TsSource::kAgent});
      }
      batch.frames.push_back(f);
    }
    auto result = st.Commit(batch);
    CHECK(result.has_value());
    refused = result->refused_frames > 0;
  }
  CHECK(refused);
  auto kept = store::RecentFrameSeqs(st, "arduino1");
  CHECK(kept.has_value());
  // Every recorded seq belongs to a stored frame: the last recorded one is below the refused ones.
  auto pending = st.OldestPending(10'000'000);
  CHECK(pending.has_value());
  std::set<core::TimeUs> stored_ts;
  for (const auto& r : pending->readings) stored_ts.insert(r.ts);
  for (const auto& r : *kept) CHECK(stored_ts.count(1'750'000'000'000'000 + r.seq) == 1);
}
