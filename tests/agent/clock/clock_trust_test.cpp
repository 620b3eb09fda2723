// Clock trust end to end (§10) with a fake clock: frames decoded while the clock is not
// synchronised go through the grouped commit (or `ingest`'s file path) into a LocalStore, are
// held out of the outbox and the aggregates, and the ClockWatch re-stamps and releases them once
// the clock synchronises, or releases them as agent_unsynced after a reboot.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/clock_watch.hpp"
#include "agent/config.hpp"
#include "agent/file_ingest.hpp"
#include "agent/grouped_commit.hpp"
#include "agent/local_store.hpp"
#include "agent/run_status.hpp"
#include "agent/status_document.hpp"
#include "core/clock.hpp"
#include "drivers/frame_decoder.hpp"
#include "store/time_zone.hpp"
#include "tests/drivers/serial/lazy_globals.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using core::kMicrosPerHour;
using core::kMicrosPerSecond;
using core::TimeUs;
using core::TsSource;

namespace {

// Loaded once before any test: the tz database lives until exit (not a per-test leak).
const bool kZoneLoaded = store::TimeZone::FromName(agent::Config{}.aggregate.timezone).has_value();

constexpr const char* kBootA = "aaaaaaaa-0000-0000-0000-000000000001";
constexpr const char* kBootB = "bbbbbbbb-0000-0000-0000-000000000002";
// The true time once synchronised: half past an hour, so both re-stamped readings share a bucket.
const TimeUs kTrueWall = core::kYear2000Us + 900'000 * kMicrosPerHour + kMicrosPerHour / 2;

drivers::FrameSpec KvSpec() {
  drivers::FrameSpec spec;
  spec.format = drivers::FrameFormat::kKv;
  spec.device = "uno";
  return spec;
}

drivers::DecodedFrame Decode(drivers::FrameDecoder& decoder, const std::string& line) {
  drivers::DecodeResult result = decoder.Decode(line);
  CHECK_TRUE(result.accepted());
  return std::move(*result.frame);
}

store::UploadBatch Pending(store::Store& store) {
  auto batch = store.OldestPending(100);
  CHECK_TRUE(batch.has_value());
  return *batch;
}

std::vector<store::HourlyRow> Buckets(agent::LocalStore& local) {
  auto rows = local.aggregates().PendingHourly(100);
  CHECK_TRUE(rows.has_value());
  return *rows;
}

nlohmann::json Status(const agent::Config& config, agent::LocalStore& local, core::Clock& clock) {
  auto facts = agent::CollectStoreFacts(local, clock);
  CHECK_TRUE(facts.has_value());
  return agent::BuildStatusDocument(config, *facts);
}

}  // namespace

TEST_GROUP(ClockTrustFlow) {
  testing::TempDir dir;
  core::FakeClock clock;
  boost::asio::io_context io;
  agent::Config config;

  void setup() override {
    CHECK_TRUE(kZoneLoaded && testing::kLazyGlobalsWarm);
    config.gateway = "gw";
    config.state_dir = dir.File("state");
    clock.SetBootId(kBootA);
    clock.SetSynchronized(false);
  }
  std::unique_ptr<agent::LocalStore> Open() {
    auto local = agent::LocalStore::Open(config, clock);
    CHECK_TEXT(local.has_value(), local ? "" : local.error().message.c_str());
    return std::move(*local);
  }
};

TEST(ClockTrustFlow, DecoderCarriesBootTimeOnlyForUnsynchronisedAgentStamps) {
  drivers::FrameDecoder strict(KvSpec(), config.metrics, clock, /*trust_unsynced=*/false);
  drivers::FrameDecoder trusting(KvSpec(), config.metrics, clock, /*trust_unsynced=*/true);
  const TimeUs boot = clock.BootTimeUs();
  drivers::DecodedFrame first = Decode(strict, "t=1");
  drivers::DecodedFrame second = Decode(strict, "t=2");  // the fake clock stood still
  CHECK(first.readings[0].ts_source == TsSource::kAgentUnsynced);
  LONGLONGS_EQUAL(boot, *first.held_boot_us);
  LONGLONGS_EQUAL(boot + 1, *second.held_boot_us);  // strictly increasing, like the stamps
  CHECK_FALSE(Decode(trusting, "t=3").held_boot_us.has_value());
  CHECK_FALSE(Decode(strict, "t=4 ts=1700000000").held_boot_us.has_value());  // device time
  clock.SetSynchronized(true);
  drivers::DecodedFrame synced = Decode(strict, "t=5");
  CHECK(synced.readings[0].ts_source == TsSource::kAgent);
  CHECK_FALSE(synced.held_boot_us.has_value());
}

TEST(ClockTrustFlow, HeldThroughGroupedCommitThenRestampedIntoBucketsOnSync) {
  auto local = Open();
  store::Store& store = local->store();
  drivers::FrameDecoder decoder(KvSpec(), config.metrics, clock, false);
  agent::GroupedCommit grouped(
      io, [&store](const store::IngestBatch& batch) { return store.Commit(batch); }, clock);
  std::vector<drivers::SubmitResult> results;
  auto done = [&results](const drivers::SubmitResult& r) { results.push_back(r); };

  // Boot time 10 s and 15 s, on a wall clock that timesyncd restored to a stale time.
  grouped.Submit("serial1", Decode(decoder, "t=20.5"), done);
  clock.Advance(5 * kMicrosPerSecond);
  grouped.Submit("serial1", Decode(decoder, "t=21.5"), done, /*durable_now=*/true);
  LONGS_EQUAL(2, results.size());
  CHECK_TRUE(results[1].status == drivers::SubmitStatus::kDurable);

  CHECK_TRUE(Pending(store).readings.empty());
  CHECK_TRUE(Buckets(*local).empty());
  nlohmann::json status = Status(config, *local, clock);
  LONGS_EQUAL(2, status["pending"]["held"].get<long>());
  LONGS_EQUAL(0, status["pending"]["readings"].get<long>());
  CHECK_FALSE(status["clock_synced"].get<bool>());

  agent::ClockWatch watch(io, clock, store);
  auto unsynced = watch.Check();
  CHECK_TRUE(unsynced.has_value());
  LONGS_EQUAL(2, unsynced->still_held);

  // Synchronised: the wall clock steps to the true time; 2 s later the watch looks.
  clock.SetWallOnly(kTrueWall);
  clock.SetSynchronized(true);
  clock.Advance(2 * kMicrosPerSecond);  // boot time 17 s
  auto released = watch.Check();
  CHECK_TRUE(released.has_value());
  LONGS_EQUAL(2, released->restamped);

  store::UploadBatch pending = Pending(store);
  LONGS_EQUAL(2, pending.readings.size());
  LONGLONGS_EQUAL(kTrueWall - 5 * kMicrosPerSecond, pending.readings[0].ts);  // boot 10 s
  LONGLONGS_EQUAL(kTrueWall, pending.readings[1].ts);                         // boot 15 s
  CHECK(pending.readings[0].ts_source == TsSource::kAgent);
  CHECK(pending.readings[1].ts_source == TsSource::kAgent);

  std::vector<store::HourlyRow> buckets = Buckets(*local);
  LONGS_EQUAL(1, buckets.size());
  LONGLONGS_EQUAL(kTrueWall - kMicrosPerHour / 2, buckets[0].bucket);
  LONGS_EQUAL(2, buckets[0].stats.n);
  DOUBLES_EQUAL(42.0, buckets[0].stats.sum, 1e-9);
  DOUBLES_EQUAL(21.5, buckets[0].stats.last, 1e-9);
  LONGLONGS_EQUAL(kTrueWall, buckets[0].stats.last_ts);

  status = Status(config, *local, clock);
  LONGS_EQUAL(0, status["pending"]["held"].get<long>());
  LONGS_EQUAL(2, status["pending"]["readings"].get<long>());
  LONGS_EQUAL(0, status["clock_unsynced"].get<long>());
  CHECK_TRUE(status["clock_synced"].get<bool>());
}

TEST(ClockTrustFlow, RestartInAnotherBootReleasesOldHeldAsAgentUnsyncedAndCounts) {
  TimeUs stamped = clock.NowUs();
  {
    auto local = Open();
    agent::FileIngest ingest(config, KvSpec(), clock, &local->store());
    CHECK_TRUE(ingest.Feed("t=1\nt=2\n"));
    CHECK_TRUE(ingest.Finish());
    LONGS_EQUAL(2, local->store().Stats()->held_readings);
  }
  // Rebooted before the clock ever synchronised.
  clock.SetBootId(kBootB);
  auto local = Open();
  agent::ClockWatch watch(io, clock, local->store());
  CHECK_TRUE(watch.Apply(config));  // the first check runs at once
  watch.Stop();

  store::UploadBatch pending = Pending(local->store());
  LONGS_EQUAL(2, pending.readings.size());
  LONGLONGS_EQUAL(stamped, pending.readings[0].ts);  // best-effort stamps kept
  LONGLONGS_EQUAL(stamped + 1, pending.readings[1].ts);
  CHECK(pending.readings[0].ts_source == TsSource::kAgentUnsynced);
  std::vector<store::HourlyRow> buckets = Buckets(*local);
  LONGS_EQUAL(1, buckets.size());
  LONGS_EQUAL(2, buckets[0].stats.n);
  nlohmann::json status = Status(config, *local, clock);
  LONGS_EQUAL(2, status["clock_unsynced"].get<long>());
  LONGS_EQUAL(0, status["pending"]["held"].get<long>());
}

TEST(ClockTrustFlow, TrustUnsyncedStoresAgentReadingsAtOnce) {
  config.clock.trust_unsynced = true;
  auto local = Open();
  agent::FileIngest ingest(config, KvSpec(), clock, &local->store());
  CHECK_TRUE(ingest.Feed("t=1\nt=2\n"));
  CHECK_TRUE(ingest.Finish());
  store::UploadBatch pending = Pending(local->store());
  LONGS_EQUAL(2, pending.readings.size());
  CHECK(pending.readings[0].ts_source == TsSource::kAgent);
  LONGLONGS_EQUAL(clock.NowUs(), pending.readings[0].ts);
  LONGS_EQUAL(1, Buckets(*local).size());
  auto stats = local->store().Stats();
  LONGS_EQUAL(0, stats->held_readings);
  LONGS_EQUAL(0, stats->clock_unsynced);
}

TEST(ClockTrustFlow, WatchTimerReleasesOnceTheClockSynchronises) {
  auto local = Open();
  drivers::FrameDecoder decoder(KvSpec(), config.metrics, clock, false);
  drivers::DecodedFrame frame = Decode(decoder, "t=7");
  store::IngestBatch batch;
  batch.input = "serial1";
  batch.frames.push_back(store::IngestFrame{frame.readings, frame.held_boot_us});
  CHECK_TRUE(local->store().Commit(batch).has_value());

  agent::ClockWatch watch(io, clock, local->store(), std::chrono::milliseconds(5));
  CHECK_TRUE(watch.Apply(config));
  io.run_for(std::chrono::milliseconds(30));
  LONGS_EQUAL(1, local->store().Stats()->held_readings);  // still unsynchronised
  clock.SetSynchronized(true);
  io.restart();
  io.run_for(std::chrono::milliseconds(60));
  watch.Stop();
  LONGS_EQUAL(0, local->store().Stats()->held_readings);
  LONGS_EQUAL(1, Pending(local->store()).readings.size());
}
