// `fieldsync aggregate`, `backfill` and `cleanup` on the built binary, on a store fed with
// `fieldsync ingest`: an intact store needs no rewrite, --dry-run writes nothing, buckets that
// lost raw readings are left alone, backfill covers exactly the local days across a DST change,
// an unreachable remote leaves the buckets pending, cleanup never drops an unuploaded bucket.
#include <filesystem>
#include <string>

#include "core/clock.hpp"
#include "core/time.hpp"
#include "tests/agent/maintenance/maintenance_fixture.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::testing::At;
using fieldsync::testing::CommandOutput;
using fieldsync::testing::JsonOf;
using fieldsync::testing::MaintenanceGateway;
using fieldsync::testing::Point;
using fieldsync::testing::Regular;
using nlohmann::json;
namespace core = fieldsync::core;

namespace {

constexpr core::TimeUs kMinute = 60 * core::kMicrosPerSecond;

// 12 hours of readings every 10 minutes on 2026-11-20 (UTC): 12 hourly buckets of 6, one day.
std::vector<Point> TwelveHours() { return Regular(At("2026-11-20T00:00:00Z"), 10 * kMinute, 72); }

void CheckCounts(const json& pass, std::int64_t buckets, std::int64_t rewritten,
                 std::int64_t skipped) {
  LONGS_EQUAL(buckets, pass["buckets"].get<std::int64_t>());
  LONGS_EQUAL(rewritten, pass["rewritten"].get<std::int64_t>());
  LONGS_EQUAL(skipped, pass["skipped_incomplete"].get<std::int64_t>());
}

}  // namespace

TEST_GROUP(CliMaintenance){};

TEST(CliMaintenance, AggregateOfAnIntactStoreRewritesNothing) {
  MaintenanceGateway gw;
  gw.Ingest(TwelveHours());
  const std::string before = gw.BucketTables();

  CommandOutput r = gw.Run("aggregate full --json");
  LONGS_EQUAL(0, r.exit_code);
  json report = JsonOf(r);
  CheckCounts(report["hourly"], 12, 0, 0);
  CheckCounts(report["daily"], 1, 0, 0);
  STRCMP_EQUAL("2026-11-20T00:00:00Z", report["hourly"]["from"].get<std::string>().c_str());
  STRCMP_EQUAL("2026-11-20T12:00:00Z", report["hourly"]["to"].get<std::string>().c_str());
  STRCMP_EQUAL(before.c_str(), gw.BucketTables().c_str());

  r = gw.Run("aggregate full");
  LONGS_EQUAL(0, r.exit_code);
  CHECK(r.out.find("12 buckets examined, 0 rewritten, 0 skipped as incomplete") !=
        std::string::npos);
}

TEST(CliMaintenance, DryRunReportsTheRewriteButWritesNothing) {
  MaintenanceGateway gw;
  gw.Ingest(TwelveHours());
  // Older than the late window behind the series' newest reading: stored raw, not aggregated.
  CommandOutput late = gw.Ingest({Point{At("2026-11-20T01:05:00Z"), 90.0}});
  const std::string before = gw.BucketTables();
  const std::string db = gw.state_dir() + "/fieldsync.db";
  const std::string bytes_before = fieldsync::testing::ReadFile(db);

  CommandOutput r = gw.Run("aggregate full --dry-run --json");
  LONGS_EQUAL(0, r.exit_code);
  json report = JsonOf(r);
  CHECK(report["dry_run"].get<bool>());
  CheckCounts(report["hourly"], 12, 1, 0);
  CheckCounts(report["daily"], 1, 1, 0);
  STRCMP_EQUAL(before.c_str(), gw.BucketTables().c_str());
  CHECK(bytes_before == fieldsync::testing::ReadFile(db));

  r = gw.Run("aggregate full --json");
  LONGS_EQUAL(0, r.exit_code);
  CheckCounts(JsonOf(r)["hourly"], 12, 1, 0);
  CHECK(before != gw.BucketTables());
  // Folded in: nothing is left to rewrite.
  CheckCounts(JsonOf(gw.Run("aggregate full --dry-run --json"))["hourly"], 12, 0, 0);
}

TEST(CliMaintenance, BucketsThatLostRawReadingsAreSkippedAsIncomplete) {
  MaintenanceGateway gw;
  gw.Ingest(TwelveHours());
  gw.DeleteOldestReadings(3);  // half of 00:00-01:00, as an upload would
  const std::string before = gw.BucketTables();

  CommandOutput r = gw.Run("aggregate full --json");
  LONGS_EQUAL(0, r.exit_code);
  json report = JsonOf(r);
  // Recomputed from the 3 readings left, the first hour would differ: it must not be rewritten.
  CheckCounts(report["hourly"], 12, 0, 1);
  CheckCounts(report["daily"], 1, 0, 1);
  STRCMP_EQUAL(before.c_str(), gw.BucketTables().c_str());
}

TEST(CliMaintenance, BackfillAcrossTheAutumnDstChangeCoversExactlyTheLocalDay) {
  MaintenanceGateway gw("Europe/Berlin");
  // Every 30 minutes from 2026-10-23 to 2026-10-27 (UTC).
  gw.Ingest(Regular(At("2026-10-23T00:00:00Z"), 30 * kMinute, 4 * 48));
  // Two late readings: 10:15Z on the 25th (local 11:15, the 25th) and 21:45Z on the 24th
  // (local 23:45 CEST, still the 24th: one minute's walk from the backfilled day).
  gw.Ingest({Point{At("2026-10-25T10:15:00Z"), 50.0}, Point{At("2026-10-24T21:45:00Z"), 60.0}});

  CommandOutput r = gw.Run("backfill --from 2026-10-25 --to 2026-10-25 --json");
  LONGS_EQUAL(0, r.exit_code);
  json report = JsonOf(r);
  // The local day of the change has 25 hours: 22:00Z on the 24th to 23:00Z on the 25th.
  STRCMP_EQUAL("2026-10-24T22:00:00Z", report["hourly"]["from"].get<std::string>().c_str());
  STRCMP_EQUAL("2026-10-25T23:00:00Z", report["hourly"]["to"].get<std::string>().c_str());
  CheckCounts(report["hourly"], 25, 1, 0);
  STRCMP_EQUAL("2026-10-25", report["daily"]["from"].get<std::string>().c_str());
  STRCMP_EQUAL("2026-10-25", report["daily"]["to"].get<std::string>().c_str());
  STRCMP_EQUAL("Europe/Berlin", report["daily"]["timezone"].get<std::string>().c_str());
  CheckCounts(report["daily"], 1, 1, 0);
  STRCMP_EQUAL("local_only", report["upload"]["status"].get<std::string>().c_str());

  // The reading of the 24th was left for a wider recompute.
  json rest = JsonOf(gw.Run("aggregate full --dry-run --json"));
  LONGS_EQUAL(1, rest["hourly"]["rewritten"].get<std::int64_t>());
  LONGS_EQUAL(1, rest["daily"]["rewritten"].get<std::int64_t>());

  // Two local days around it: 24 + 25 hours.
  report = JsonOf(gw.Run("backfill --from 2026-10-24 --to 2026-10-25 --dry-run --json"));
  CheckCounts(report["hourly"], 49, 1, 0);
  CheckCounts(report["daily"], 2, 1, 0);
  CHECK_FALSE(report.contains("upload"));
}

TEST(CliMaintenance, BackfillWithAnUnreachableRemoteLeavesTheBucketsPending) {
  MaintenanceGateway gw("UTC",
                        "[sync]\nurl = \"postgresql://fieldsync@127.0.0.1:1/none?"
                        "connect_timeout=2\"\nop_timeout_s = 2\n");
  gw.Ingest(TwelveHours());
  gw.Ingest({Point{At("2026-11-20T01:05:00Z"), 90.0}});
  const std::int64_t pending_before =
      JsonOf(gw.Run("status --json"))["pending"]["aggregates"].get<std::int64_t>();
  LONGS_EQUAL(13, pending_before);  // 12 hours and a day, never uploaded

  CommandOutput r = gw.Run("backfill --from 2026-11-20 --to 2026-11-20");
  LONGS_EQUAL(1, r.exit_code);
  CHECK(r.out.find("1 rewritten") != std::string::npos);
  CHECK(r.out.find("stay marked for the next sync") != std::string::npos);
  LONGS_EQUAL(pending_before,
              JsonOf(gw.Run("status --json"))["pending"]["aggregates"].get<std::int64_t>());
}

TEST(CliMaintenance, CleanupDeletesOldUploadedBucketsAndKeepsPendingOnes) {
  MaintenanceGateway gw;
  core::SystemClock clock;
  const std::int64_t today = core::FloorDiv(clock.NowUs(), core::kMicrosPerDay);
  const core::TimeUs old_day = (today - 200) * core::kMicrosPerDay;
  // Two old days of hourly readings (48 hourly buckets, 2 daily), then one recent reading.
  std::vector<Point> points = Regular(old_day + 30 * kMinute, core::kMicrosPerHour, 48);
  points.push_back(Point{clock.NowUs() - core::kMicrosPerHour, 21.0});
  gw.Ingest(points);
  // The first old day was uploaded (its 24 hours and the day); the second was not.
  gw.MarkUploaded(old_day + core::kMicrosPerDay, today - 199);
  const std::int64_t hourly_rows = gw.Count("agg_hourly");
  const std::int64_t daily_rows = gw.Count("agg_daily");

  json report = JsonOf(gw.Run("cleanup --dry-run --json"));
  LONGS_EQUAL(24, report["hourly"].get<std::int64_t>());
  LONGS_EQUAL(0, report["daily"].get<std::int64_t>());  // daily retention: 730 days
  LONGS_EQUAL(24, report["kept_pending"].get<std::int64_t>());
  LONGS_EQUAL(hourly_rows, gw.Count("agg_hourly"));

  CommandOutput r = gw.Run("cleanup");
  LONGS_EQUAL(0, r.exit_code);
  CHECK(r.out.find("deleted 24 hourly buckets") != std::string::npos);
  CHECK(r.out.find("kept_pending 24") != std::string::npos);
  LONGS_EQUAL(hourly_rows - 24, gw.Count("agg_hourly"));

  report = JsonOf(gw.Run("cleanup --retention-days 30 --json"));
  LONGS_EQUAL(0, report["hourly"].get<std::int64_t>());
  LONGS_EQUAL(1, report["daily"].get<std::int64_t>());
  LONGS_EQUAL(25, report["kept_pending"].get<std::int64_t>());  // the second day: 24 h + 1 d
  LONGS_EQUAL(daily_rows - 1, gw.Count("agg_daily"));
  LONGS_EQUAL(hourly_rows - 24, gw.Count("agg_hourly"));  // recent buckets untouched
}

TEST(CliMaintenance, UsageErrorsExitWithTwoAndCreateNothing) {
  MaintenanceGateway gw;
  for (const char* args :
       {"aggregate", "aggregate weekly", "aggregate hourly --hours 0", "aggregate daily --hours 3",
        "aggregate hourly --hours 2 --days 1", "aggregate full --hours 5", "backfill",
        "backfill --from 2026-10-01", "backfill --from 2026-10-26 --to 2026-10-25",
        "backfill --days 3 --from 2026-10-24 --to 2026-10-25",
        "backfill --from 2026-13-01 --to 2026-13-02", "backfill --days x",
        "cleanup --retention-days -1", "cleanup --bogus"}) {
    CommandOutput r = gw.Run(args);
    if (r.exit_code != 2)
      FAIL((std::string(args) + ": exit " + std::to_string(r.exit_code)).c_str());
    CHECK(r.out.empty());
    CHECK_FALSE(r.err.empty());
  }
  CHECK_FALSE(std::filesystem::exists(gw.state_dir() + "/fieldsync.db"));
  CommandOutput reversed = gw.Run("backfill --from 2026-10-26 --to 2026-10-25");
  CHECK(reversed.err.find("after") != std::string::npos);
}

TEST(CliMaintenance, WithoutAStoreEveryCountIsZero) {
  MaintenanceGateway gw;
  CommandOutput r = gw.Run("cleanup --json");
  LONGS_EQUAL(0, r.exit_code);
  LONGS_EQUAL(0, JsonOf(r)["hourly"].get<std::int64_t>());
  r = gw.Run("aggregate hourly --json");
  LONGS_EQUAL(0, r.exit_code);
  CheckCounts(JsonOf(r)["hourly"], 0, 0, 0);
  CHECK_FALSE(std::filesystem::exists(gw.state_dir() + "/fieldsync.db"));
}
