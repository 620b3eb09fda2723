// GroupedCommit over a real LocalStore: one grouped commit of frames with new, pending-duplicate,
// in-batch-duplicate and late-window-duplicate readings gives each frame its own exact counts
// (what the HTTP 202 body reports per request).
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "agent/grouped_commit.hpp"
#include "agent/local_store.hpp"
#include "core/clock.hpp"
#include "store/time_zone.hpp"
#include "tests/drivers/serial/lazy_globals.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;

namespace {

// The tz database is loaded on first use and kept until exit: load it before any test runs so
// that CppUTest's leak check does not count it against the first test that opens a store.
const bool kZoneLoaded = store::TimeZone::FromName(agent::Config{}.aggregate.timezone).has_value();

constexpr core::TimeUs kTs = core::kYear2000Us + 800'000'000 * core::kMicrosPerSecond;

drivers::DecodedFrame MakeFrame(const std::string& device, core::TimeUs ts,
                                const std::vector<std::string>& metrics) {
  drivers::DecodedFrame frame;
  frame.device = device;
  for (const auto& metric : metrics) {
    frame.readings.push_back(core::Reading{device, metric, ts, 1.0, core::TsSource::kDevice});
  }
  return frame;
}

}  // namespace

TEST_GROUP(GroupedFrameCounts) {
  testing::TempDir dir;
  core::FakeClock clock;
  boost::asio::io_context io;
};

TEST(GroupedFrameCounts, EveryFrameGetsItsOwnAcceptedAndDuplicates) {
  CHECK_TRUE(kZoneLoaded);
  agent::Config config;
  config.gateway = "gw";
  config.state_dir = dir.File("state");
  auto local = agent::LocalStore::Open(config, clock);
  CHECK_TEXT(local.has_value(), local ? "" : local.error().message.c_str());
  store::Store& store = (*local)->store();

  // Earlier: dev1/a uploaded (gone from the outbox, still in the late window); dev1/b pending.
  store::IngestBatch earlier;
  earlier.input = "http";
  earlier.frames.push_back(store::IngestFrame{MakeFrame("dev1", kTs, {"a"}).readings});
  CHECK_TRUE(store.Commit(earlier).has_value());
  auto uploaded = store.OldestPending(10);
  CHECK_TRUE(uploaded.has_value());
  CHECK_TRUE(store.DeleteUploaded(uploaded->ids));
  earlier.frames[0] = store::IngestFrame{MakeFrame("dev1", kTs, {"b"}).readings};
  CHECK_TRUE(store.Commit(earlier).has_value());

  agent::GroupedCommit grouped(
      io, [&store](const store::IngestBatch& batch) { return store.Commit(batch); }, clock);
  std::map<int, drivers::SubmitResult> results;
  auto done = [&results](int n) {
    return [&results, n](const drivers::SubmitResult& r) { results[n] = r; };
  };
  // 0: a (late-window duplicate), b (pending duplicate), c (new)
  grouped.Submit("http", MakeFrame("dev1", kTs, {"a", "b", "c"}), done(0));
  // 1: three new readings of another device
  grouped.Submit("http", MakeFrame("dev2", kTs, {"x", "y", "z"}), done(1));
  // 2: y again (a duplicate of frame 1 in the same commit) and one new
  grouped.Submit("http", MakeFrame("dev2", kTs, {"y", "w"}), done(2), /*durable_now=*/true);

  LONGS_EQUAL(3, results.size());
  const std::int64_t expected[3][2] = {{1, 2}, {3, 0}, {1, 1}};
  for (int n = 0; n < 3; ++n) {
    CHECK_TRUE(results[n].status == drivers::SubmitStatus::kDurable);
    LONGS_EQUAL_TEXT(expected[n][0], results[n].accepted, std::to_string(n).c_str());
    LONGS_EQUAL_TEXT(expected[n][1], results[n].duplicates, std::to_string(n).c_str());
  }
  LONGS_EQUAL(1, grouped.stats().commits);
  auto stats = store.Stats();
  CHECK_TRUE(stats.has_value());
  LONGS_EQUAL(1 + 5, stats->pending_readings);
}
