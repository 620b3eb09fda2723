// The upload protocol of §5 against a real PostgreSQL.
#include "sync/uploader.hpp"

#include <CppUTest/TestHarness.h>

#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "sync/gateway_ownership.hpp"
#include "sync/remote_schema.hpp"
#include "tests/sync/memory_outbox.hpp"
#include "tests/sync/pg_test_schema.hpp"
#include "tests/sync/uploader_fixture.hpp"

using fieldsync::core::Errc;
using fieldsync::core::Reading;
using namespace fieldsync::sync;
using namespace fieldsync::testing;

namespace {

// Waits until a fieldsync session of this test waits on a lock; returns its pid.
std::string WaitForBlockedUpload(const PgTestSchema& db) {
  for (int i = 0; i < 100; ++i) {
    auto r = db.Exec(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'fieldsync' AND "
        "wait_event_type = 'Lock' AND query LIKE '%" +
        db.name() + "%readings%'");
    if (r.rows() > 0) return std::string(r.Value(0, 0));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("the upload never reached the locked table");
  return "";
}

}  // namespace

TEST_GROUP(Uploader){};

TEST(Uploader, RoundTripIsExactAndResendingAddsNothing) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url);
  const auto generated = Generate(2345, 1);
  for (const auto& r : generated) f.outbox.Add(r, kT0 + 5);
  Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  CycleReport first = Drain(uploader);
  LONGS_EQUAL(2345, first.inserted);
  LONGS_EQUAL(0, first.skipped);
  LONGS_EQUAL(0, f.outbox.pending());
  CHECK(Keys(generated) == RemoteKeys(f.db, "gh-1"));
  LONGS_EQUAL(7, f.RemoteCount("devices"));

  // The same readings again (as after a COMMIT whose answer was lost): all skipped.
  for (int i = 0; i < 1000; ++i) f.outbox.Add(generated[static_cast<size_t>(i)]);
  CycleReport again = Drain(uploader);
  LONGS_EQUAL(0, again.inserted);
  LONGS_EQUAL(1000, again.skipped);
  LONGS_EQUAL(2345, f.RemoteCount("readings"));
  auto gw = f.db.Exec("SELECT instance_id, version, pending, clock_synced FROM \"" + f.db.name() +
                      "\".gateways");
  STRCMP_EQUAL("instance-a", std::string(gw.Value(0, 0)).c_str());
  STRCMP_EQUAL("0.1.0", std::string(gw.Value(0, 1)).c_str());
}

TEST(Uploader, DevicesKeepTheirFirstAndLastSeen) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url);
  Reading r{"d1", "m", kT0 + 10, 1.0, fieldsync::core::TsSource::kDevice};
  f.outbox.Add(r);
  Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  Drain(uploader);
  r.ts = kT0;  // an older reading arrives later
  f.outbox.Add(r);
  r.ts = kT0 + 20;
  f.outbox.Add(r);
  Drain(uploader);
  auto d =
      f.db.Exec("SELECT (extract(epoch FROM first_seen) * 1000000)::bigint - " +
                std::to_string(kT0) + ", (extract(epoch FROM last_seen) * 1000000)::bigint - " +
                std::to_string(kT0) + " FROM \"" + f.db.name() + "\".devices");
  STRCMP_EQUAL("0", std::string(d.Value(0, 0)).c_str());
  STRCMP_EQUAL("20", std::string(d.Value(0, 1)).c_str());
}

TEST(Uploader, DroppedConnectionMidBatchLeavesTheRowsLocal) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url);
  for (const auto& r : Generate(500, 2)) f.outbox.Add(r);
  Uploader uploader(f.options, f.outbox, nullptr, f.clock);

  // SHARE mode lets the staging COPY through and stops the INSERT into readings.
  auto locker = f.db.Connect();
  CHECK(
      locker->Exec("BEGIN; LOCK TABLE \"" + f.db.name() + "\".readings IN SHARE MODE").has_value());
  CycleReport report;
  std::thread cycle([&] { report = uploader.RunCycle(); });
  const std::string pid = WaitForBlockedUpload(f.db);
  f.db.Exec("SELECT pg_terminate_backend(" + pid + ")");
  cycle.join();
  CHECK(locker->Exec("ROLLBACK").has_value());

  CHECK(report.outcome == UploadOutcome::kRetry);
  LONGS_EQUAL(500, f.outbox.pending());
  LONGS_EQUAL(0, f.RemoteCount("readings"));
  CycleReport after = Drain(uploader);  // reconnects by itself
  LONGS_EQUAL(500, after.inserted);
  LONGS_EQUAL(0, f.outbox.pending());
}

TEST(Uploader, StuckStatementMissesItsDeadlineAndKeepsTheRows) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url, 1000, 1);
  for (const auto& r : Generate(100, 3)) f.outbox.Add(r);
  Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  auto locker = f.db.Connect();
  CHECK(
      locker->Exec("BEGIN; LOCK TABLE \"" + f.db.name() + "\".readings IN SHARE MODE").has_value());
  CycleReport report = uploader.RunCycle();
  CHECK(locker->Exec("ROLLBACK").has_value());
  CHECK(report.outcome == UploadOutcome::kRetry);
  CHECK(report.code == Errc::kTimeout);
  LONGS_EQUAL(100, f.outbox.pending());
  LONGS_EQUAL(100, Drain(uploader).inserted);
}

TEST(Uploader, AnotherInstanceIsRefusedUntilAdopt) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url);
  f.db.Exec("INSERT INTO \"" + f.db.name() +
            "\".gateways (gateway, instance_id) VALUES ('gh-1', 'instance-old')");
  for (const auto& r : Generate(10, 4)) f.outbox.Add(r);
  Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  CycleReport refused = uploader.RunCycle();
  CHECK(refused.outcome == UploadOutcome::kError);
  CHECK(refused.code == Errc::kConflict);
  CHECK(refused.message.find("instance-old") != std::string::npos);
  LONGS_EQUAL(10, f.outbox.pending());
  LONGS_EQUAL(0, f.RemoteCount("readings"));

  auto conn = f.db.Connect();
  CHECK(AdoptGateway(*conn, f.db.name(), "gh-1", "instance-a").has_value());
  LONGS_EQUAL(10, Drain(uploader).inserted);
}

TEST(Uploader, RowsTheServerRefusesAreQuarantinedAndTheRestLand) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url, 64);
  f.db.Exec("ALTER TABLE \"" + f.db.name() + "\".readings ADD CHECK (value < 1e9)");
  auto readings = Generate(64, 5);
  std::set<std::int64_t> bad_ids;
  for (size_t i = 0; i < readings.size(); ++i) {
    if (i == 3 || i == 40 || i == 41) readings[i].value = 5e9;
    const auto id = f.outbox.Add(readings[i]);
    if (readings[i].value > 1e9) bad_ids.insert(id);
  }
  Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  CycleReport report = uploader.RunCycle();
  CHECK_TEXT(report.outcome == UploadOutcome::kOk, report.message.c_str());
  LONGS_EQUAL(3, report.quarantined);
  LONGS_EQUAL(61, report.inserted);
  LONGS_EQUAL(0, f.outbox.pending());
  LONGS_EQUAL(3, f.outbox.quarantined().size());
  for (const auto& [id, reason] : f.outbox.quarantined()) {
    CHECK(bad_ids.count(id) == 1);
    CHECK(reason.find("23514") != std::string::npos);
  }
}

TEST(Uploader, WithoutQuarantineRefusedRowsStayPendingAndSayWhy) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url, 16);
  f.db.Exec("ALTER TABLE \"" + f.db.name() + "\".readings ADD CHECK (value < 1e9)");
  f.outbox.set_quarantine_available(false);
  auto readings = Generate(16, 6);
  readings[9].value = 5e9;
  for (const auto& r : readings) f.outbox.Add(r);
  Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  CycleReport report = uploader.RunCycle();
  CHECK(report.outcome == UploadOutcome::kError);
  CHECK(report.message.find(readings[9].device) != std::string::npos);
  LONGS_EQUAL(15, report.inserted);  // everything but the refused row
  LONGS_EQUAL(1, f.outbox.pending());
  CHECK(f.outbox.PendingReadings().front() == readings[9]);
}

TEST(Uploader, ChangedBucketsAreUpsertedAndMetricsAndGatewayRefreshed) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url);
  fieldsync::core::MetricSpec spec;
  spec.unit = "C";
  spec.profile = fieldsync::core::ProfileFromMargin(18, 26, 0.2);
  f.options.metrics["temperature"] = spec;
  MemoryBucketOutbox buckets;
  fieldsync::store::HourlyRow h;
  h.device = "d1";
  h.metric = "temperature";
  h.bucket = kT0 - kT0 % fieldsync::core::kMicrosPerHour;
  h.stats.n = 2;
  h.stats.sum = 41.0;
  h.stats.min = 20.0;
  h.stats.max = 21.0;
  h.stats.last = 21.0;
  h.stats.last_ts = h.bucket + 5;
  h.stats.optimal_n = 2;
  h.stats.critical_n = 0;
  buckets.hourly.push_back(h);
  fieldsync::store::DailyRow d;
  d.device = "d1";
  d.metric = "temperature";
  d.day = 20000;
  d.tz = "Europe/Berlin";
  d.stats = h.stats;
  buckets.daily.push_back(d);
  Uploader uploader(f.options, f.outbox, &buckets, f.clock);
  CycleReport first = uploader.RunCycle();
  CHECK_TEXT(first.outcome == UploadOutcome::kOk, first.message.c_str());
  LONGS_EQUAL(1, first.hourly);
  LONGS_EQUAL(1, first.daily);
  CHECK(buckets.hourly.empty());

  h.stats.n = 3;  // a late reading changed the bucket
  h.stats.sum = 60.0;
  h.stats.optimal_n = 2;
  h.stats.critical_n = 1;
  buckets.hourly.push_back(h);
  CHECK(uploader.RunCycle().outcome == UploadOutcome::kOk);
  auto row = f.db.Exec("SELECT n, avg, optimal_pct::numeric(6,2), critical_n FROM \"" +
                       f.db.name() + "\".hourly");
  LONGS_EQUAL(1, row.rows());
  STRCMP_EQUAL("3", std::string(row.Value(0, 0)).c_str());
  STRCMP_EQUAL("20", std::string(row.Value(0, 1)).c_str());
  STRCMP_EQUAL("66.67", std::string(row.Value(0, 2)).c_str());
  auto day = f.db.Exec("SELECT day::text, tz FROM \"" + f.db.name() + "\".daily");
  STRCMP_EQUAL("2024-10-04", std::string(day.Value(0, 0)).c_str());
  auto metric =
      f.db.Exec("SELECT kind, unit, optimal_lo, critical_hi FROM \"" + f.db.name() + "\".metrics");
  STRCMP_EQUAL("gauge", std::string(metric.Value(0, 0)).c_str());
  STRCMP_EQUAL("18", std::string(metric.Value(0, 2)).c_str());
  STRCMP_EQUAL("31.2", std::string(metric.Value(0, 3)).c_str());
  LONGS_EQUAL(1, f.RemoteCount("gateways"));
}

TEST(Uploader, ThePrintedGrantsAreEnoughToUpload) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url);
  const std::string role = "fsup_" + std::to_string(getpid());
  f.db.Exec("DROP ROLE IF EXISTS " + role + "; CREATE ROLE " + role +
            " LOGIN PASSWORD 'fieldsync-test'");
  auto grants = RenderGrants(f.db.name(), role);
  f.db.Exec(*grants);
  f.options.url = ConninfoWith(*url, {{"user", role}, {"password", "fieldsync-test"}});
  fieldsync::core::MetricSpec spec;
  f.options.metrics["temperature"] = spec;
  MemoryBucketOutbox buckets;
  fieldsync::store::HourlyRow h;
  h.device = "d1";
  h.metric = "temperature";
  h.bucket = kT0 - kT0 % fieldsync::core::kMicrosPerHour;
  h.stats.n = 1;
  buckets.hourly.push_back(h);
  const auto generated = Generate(300, 9);
  for (const auto& r : generated) f.outbox.Add(r);
  for (int i = 0; i < 100; ++i) f.outbox.Add(generated[static_cast<size_t>(i)]);  // resent rows
  Uploader uploader(f.options, f.outbox, &buckets, f.clock);
  CycleReport report = uploader.RunCycle();
  CHECK_TEXT(report.outcome == UploadOutcome::kOk, report.message.c_str());
  LONGS_EQUAL(300, report.inserted);
  LONGS_EQUAL(100, report.skipped);
  LONGS_EQUAL(1, report.hourly);
  buckets.hourly.push_back(h);  // and an update of a bucket already there
  CHECK(uploader.RunCycle().outcome == UploadOutcome::kOk);
  uploader.Disconnect();
  f.db.Exec("DROP OWNED BY " + role + "; DROP ROLE " + role);
}

TEST(Uploader, ACycleSendsTheBacklogAndAOneBatchCycleOnlyItsOldestBatch) {
  auto url = TestPgUrl();
  if (!url) return;
  Fixture f(*url, 100);
  for (const auto& r : Generate(250, 21)) f.outbox.Add(r);
  Uploader uploader(f.options, f.outbox, nullptr, f.clock);

  CycleReport one = uploader.RunCycle(CycleScope::kOneBatch);
  CHECK_TEXT(one.outcome == UploadOutcome::kOk, one.message.c_str());
  LONGS_EQUAL(100, one.inserted);
  CHECK(one.more_pending);
  LONGS_EQUAL(150, f.outbox.pending());

  CycleReport rest = uploader.RunCycle();
  CHECK_TEXT(rest.outcome == UploadOutcome::kOk, rest.message.c_str());
  LONGS_EQUAL(150, rest.inserted);
  CHECK_FALSE(rest.more_pending);
  LONGS_EQUAL(0, f.outbox.pending());
  LONGS_EQUAL(250, f.RemoteCount("readings"));
}
