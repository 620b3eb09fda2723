// `transfer` of the fieldsync tables between two real databases: round trip, date edges in UTC
// and across DST, re-runs, the missing-device abort, dry run, and errors naming the side.

#include "sync/remote_schema.hpp"
#include "tests/sync/pg_test_schema.hpp"
#include "tests/sync/transfer/transfer_test_support.hpp"

// CppUTest last: its leak checker redefines operator new.
#include <CppUTest/TestHarness.h>

using fieldsync::core::Errc;
using namespace fieldsync::sync;
using namespace fieldsync::testing;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void Migrate(const std::string& url) {
  auto conn = PgConnection::Connect(url, 30);
  if (!conn) FAIL(conn.error().message.c_str());
  auto migrated = MigrateSchema(**conn, "fieldsync");
  if (!migrated) FAIL(migrated.error().message.c_str());
}

// Both databases with the fieldsync schema; the source holds four days (2024-03-01..04) of
// hourly readings for gw1/d1 (temp) and gw1/d2 (hum), their hourly and daily buckets, and
// gw1/d3 whose only reading is on 2024-03-10.
void SeedFieldsync(const TransferDatabases& dbs) {
  Migrate(dbs.source_url());
  Migrate(dbs.target_url());
  dbs.Source(R"(
    INSERT INTO fieldsync.devices VALUES ('gw1', 'd1', '2024-01-01Z', '2024-03-04Z'),
      ('gw1', 'd2', '2024-01-01Z', '2024-03-04Z'), ('gw1', 'd3', '2024-03-10Z', '2024-03-10Z');
    INSERT INTO fieldsync.metrics VALUES ('gw1', 'temp', 'gauge', 'C', 18, 24, 5, 35),
      ('gw1', 'hum', 'gauge', '%', 40, 60, 10, 90), ('gw1', 'unused', 'gauge', '', 0, 1, 0, 1);
    INSERT INTO fieldsync.readings
      SELECT 'gw1', d, m, t, random() * 100 + 0.1234567890123, 'device', t + interval '1 s'
      FROM generate_series('2024-03-01Z'::timestamptz, '2024-03-04 23:00Z', interval '1 hour') t,
           (VALUES ('d1', 'temp'), ('d2', 'hum')) AS dm(d, m);
    INSERT INTO fieldsync.readings VALUES ('gw1', 'd3', 'temp', '2024-03-10Z', 1, 'device', NULL);
    INSERT INTO fieldsync.hourly (gateway, device, metric, bucket, n, sum, avg, min, max, last,
                                  last_ts, updated_at)
      SELECT gateway, device, metric, date_trunc('hour', ts), count(*), sum(value), avg(value),
             min(value), max(value), max(value), max(ts), now()
      FROM fieldsync.readings GROUP BY 1, 2, 3, 4;
    INSERT INTO fieldsync.daily (gateway, device, metric, day, tz, n, sum, avg, updated_at)
      SELECT gateway, device, metric, (ts AT TIME ZONE 'UTC')::date, 'UTC', count(*), sum(value),
             avg(value), now()
      FROM fieldsync.readings GROUP BY 1, 2, 3, 4;
  )");
}

constexpr const char* kReadingsInRange =
    "fieldsync.readings x WHERE ts >= '2024-03-02Z' AND ts < '2024-03-04Z'";
constexpr const char* kHourlyInRange =
    "fieldsync.hourly x WHERE bucket >= '2024-03-02Z' AND bucket < '2024-03-04Z'";
constexpr const char* kDailyInRange =
    "fieldsync.daily x WHERE day BETWEEN '2024-03-02' AND '2024-03-03'";

}  // namespace

TEST_GROUP(TransferFieldsync){};

TEST(TransferFieldsync, RoundTripCopiesExactlyTheRangeAndRerunSkipsAll) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  SeedFieldsync(dbs);
  auto options = OptionsFor(dbs, "2024-03-02", "2024-03-03");
  options.devices = true;
  options.batch_size = 7;  // many batches, the last one partial
  auto report = Transfer(options);
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());

  for (const char* rows : {kReadingsInRange, kHourlyInRange, kDailyInRange}) {
    STRCMP_EQUAL(dbs.SourceValue(Fingerprint(rows)).c_str(),
                 dbs.TargetValue(Fingerprint(rows)).c_str());
  }
  // Nothing outside the range, and only the devices and metrics the range speaks of.
  STRCMP_EQUAL("96", dbs.TargetValue("SELECT count(*) FROM fieldsync.readings").c_str());
  STRCMP_EQUAL("d1,d2", dbs.TargetValue("SELECT string_agg(device, ',' ORDER BY device) FROM "
                                        "fieldsync.devices")
                            .c_str());
  STRCMP_EQUAL("hum,temp", dbs.TargetValue("SELECT string_agg(metric, ',' ORDER BY metric) FROM "
                                           "fieldsync.metrics")
                               .c_str());
  STRCMP_EQUAL(dbs.SourceValue(Fingerprint("fieldsync.devices x WHERE device <> 'd3'")).c_str(),
               dbs.TargetValue(Fingerprint("fieldsync.devices x")).c_str());
  const auto readings = CountsOf(*report, "readings");
  CHECK_EQUAL(96, readings.fetched);
  CHECK_EQUAL(96, readings.inserted);
  CHECK_EQUAL(0, readings.skipped);
  CHECK_EQUAL(4, CountsOf(*report, "daily").inserted);

  auto again = Transfer(options);
  CHECK_TEXT(again.has_value(), again ? "" : again.error().message.c_str());
  for (const char* table : {"readings", "hourly", "daily"}) {
    const auto counts = CountsOf(*again, table);
    CHECK(counts.fetched > 0);
    CHECK_EQUAL(0, counts.inserted);
    CHECK_EQUAL(counts.fetched, counts.skipped);
  }
  CHECK_EQUAL(0, CountsOf(*again, "devices").updated);  // identical rows are left alone
  STRCMP_EQUAL("96", dbs.TargetValue("SELECT count(*) FROM fieldsync.readings").c_str());
}

TEST(TransferFieldsync, ExistingTargetRowsAreNeverOverwritten) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  SeedFieldsync(dbs);
  dbs.Target(
      "INSERT INTO fieldsync.devices VALUES ('gw1', 'd1', NULL, NULL), ('gw1', 'd2', NULL, NULL);"
      "INSERT INTO fieldsync.readings VALUES ('gw1', 'd1', 'temp', '2024-03-02 05:00Z', -42, "
      "'target', NULL)");
  auto report = Transfer(OptionsFor(dbs, "2024-03-02", "2024-03-03"));
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  const auto readings = CountsOf(*report, "readings");
  CHECK_EQUAL(96, readings.fetched);
  CHECK_EQUAL(95, readings.inserted);
  CHECK_EQUAL(1, readings.skipped);
  STRCMP_EQUAL("-42", dbs.TargetValue("SELECT value FROM fieldsync.readings WHERE device = 'd1' "
                                      "AND ts = '2024-03-02 05:00Z'")
                          .c_str());
}

TEST(TransferFieldsync, DayEdgesInUtc) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  Migrate(dbs.source_url());
  Migrate(dbs.target_url());
  dbs.Source(
      "INSERT INTO fieldsync.readings (gateway, device, metric, ts, value) SELECT 'g', 'd', 'm', "
      "t::timestamptz, 1 FROM unnest(ARRAY['2024-03-01 23:59:59.999999Z', '2024-03-02 00:00:00Z', "
      "'2024-03-03 00:00:00Z', '2024-03-03 23:59:59.999999Z', '2024-03-04 00:00:00Z']) t");
  dbs.Target("INSERT INTO fieldsync.devices VALUES ('g', 'd', NULL, NULL)");
  auto report = Transfer(OptionsFor(dbs, "2024-03-02", "2024-03-03"));
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  STRCMP_EQUAL(
      "2024-03-02 00:00:00+00,2024-03-03 00:00:00+00,2024-03-03 23:59:59.999999+00",
      dbs.TargetValue("SET TimeZone = 'UTC'; SELECT string_agg(ts::text, ',' ORDER BY ts) FROM "
                      "fieldsync.readings")
          .c_str());
}

TEST(TransferFieldsync, BerlinDaysAcrossDstAre23And25Hours) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  Migrate(dbs.source_url());
  Migrate(dbs.target_url());
  // 2024-03-31 (CET -> CEST) runs 23:00Z..22:00Z; 2024-10-27 (CEST -> CET) 22:00Z..23:00Z.
  dbs.Source(
      "INSERT INTO fieldsync.readings (gateway, device, metric, ts, value) SELECT 'g', 'd', 'm', "
      "t::timestamptz, 1 FROM unnest(ARRAY['2024-03-30 22:59:59.999999Z', '2024-03-30 23:00:00Z', "
      "'2024-03-31 21:59:59.999999Z', '2024-03-31 22:00:00Z', '2024-10-26 21:59:59.999999Z', "
      "'2024-10-26 22:00:00Z', '2024-10-27 22:59:59.999999Z', '2024-10-27 23:00:00Z']) t");
  dbs.Target("INSERT INTO fieldsync.devices VALUES ('g', 'd', NULL, NULL)");
  auto spring = OptionsFor(dbs, "2024-03-31", "2024-03-31");
  spring.timezone = "Europe/Berlin";
  auto report = Transfer(spring);
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  CHECK(Contains(report->range, "[2024-03-30 23:00:00+00, 2024-03-31 22:00:00+00)"));
  auto autumn = OptionsFor(dbs, "2024-10-27", "2024-10-27");
  autumn.timezone = "Europe/Berlin";
  report = Transfer(autumn);
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  CHECK_EQUAL(2, CountsOf(*report, "readings").inserted);
  STRCMP_EQUAL(
      "2024-03-30 23:00:00+00,2024-03-31 21:59:59.999999+00,2024-10-26 22:00:00+00,"
      "2024-10-27 22:59:59.999999+00",
      dbs.TargetValue("SET TimeZone = 'UTC'; SELECT string_agg(ts::text, ',' ORDER BY ts) FROM "
                      "fieldsync.readings")
          .c_str());
}

TEST(TransferFieldsync, MissingDevicesAbortBeforeAnyWrite) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  Migrate(dbs.source_url());
  Migrate(dbs.target_url());
  dbs.Source(
      "INSERT INTO fieldsync.readings (gateway, device, metric, ts, value) SELECT 'gateway-a', "
      "'sensor-with-a-long-name-' || lpad(i::text, 2, '0'), 'm', '2024-03-02 12:00Z', i "
      "FROM generate_series(1, 40) i");
  dbs.Target(
      "INSERT INTO fieldsync.devices VALUES ('gateway-a', 'sensor-with-a-long-name-01', "
      "NULL, NULL)");
  auto report = Transfer(OptionsFor(dbs, "2024-03-02", "2024-03-02"));
  CHECK(!report);
  CHECK(report.error().code == Errc::kConflict);
  const std::string& message = report.error().message;
  CHECK_TEXT(Contains(message, "39 device(s)"), message.c_str());
  CHECK(Contains(message, "gateway-a/sensor-with-a-long-name-02"));
  CHECK(!Contains(message, "gateway-a/sensor-with-a-long-name-01,"));
  CHECK(Contains(message, "more"));
  CHECK(Contains(message, "--devices"));
  STRCMP_EQUAL("0", dbs.TargetValue("SELECT count(*) FROM fieldsync.readings").c_str());
}

TEST(TransferFieldsync, DryRunCountsAndWritesNothing) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  SeedFieldsync(dbs);
  auto options = OptionsFor(dbs, "2024-03-02", "2024-03-03");
  options.devices = true;
  options.dry_run = true;
  auto report = Transfer(options);
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  CHECK(report->dry_run);
  CHECK_EQUAL(96, CountsOf(*report, "readings").fetched);
  CHECK_EQUAL(2, CountsOf(*report, "devices").fetched);
  for (const char* table : {"readings", "hourly", "daily", "devices", "metrics"}) {
    STRCMP_EQUAL("0",
                 dbs.TargetValue(std::string("SELECT count(*) FROM fieldsync.") + table).c_str());
  }
}

TEST(TransferFieldsync, ErrorsNameTheSideAndNeverThePassword) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  Migrate(dbs.source_url());
  Migrate(dbs.target_url());
  auto options = OptionsFor(dbs, "2024-03-02", "2024-03-02");
  options.source_url = "postgresql://someone:s3cretpw@127.0.0.1:1/nowhere";
  auto report = Transfer(options);
  CHECK(!report);
  CHECK_TEXT(report.error().message.starts_with("source: "), report.error().message.c_str());
  CHECK(!Contains(report.error().message, "s3cretpw"));

  options = OptionsFor(dbs, "2024-03-02", "2024-03-02");
  options.target_url = "postgresql://someone:s3cretpw@127.0.0.1:1/nowhere";
  report = Transfer(options);
  CHECK(!report);
  CHECK_TEXT(report.error().message.starts_with("target: "), report.error().message.c_str());
  CHECK(!Contains(report.error().message, "s3cretpw"));
  bool warned = false;
  for (const auto& warning : TransferWarnings(options)) {
    warned = warned || Contains(warning, "the target URL carries a password");
  }
  CHECK(warned);

  dbs.Target("DROP TABLE fieldsync.hourly");
  report = Transfer(OptionsFor(dbs, "2024-03-02", "2024-03-02"));
  CHECK(!report && report.error().code == Errc::kNotFound);
  STRCMP_EQUAL("target: table fieldsync.hourly does not exist", report.error().message.c_str());

  options = OptionsFor(dbs, "2024-03-02", "2024-03-02");
  options.timezone = "Mars/Olympus_Mons";
  report = Transfer(options);
  CHECK(!report && report.error().code == Errc::kInvalidArgument);
  CHECK(Contains(report.error().message, "Mars/Olympus_Mons"));
}
