#include "store/aggregate_store.hpp"
#include "store/schema.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/store/aggregates/aggregate_oracle.hpp"
#include "tests/support/temp_dir.hpp"

// After every standard header: CppUTest's leak detector redefines `new`.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using core::kMicrosPerHour;
using core::kMicrosPerSecond;
using store::AggregateStore;
using store::BucketKind;
using testing::AggregateOracle;
using testing::BucketMap;

namespace {

core::TimeUs At(const char* rfc3339) { return *core::ParseRfc3339(rfc3339); }

std::map<std::string, core::MetricSpec> Metrics() {
  std::map<std::string, core::MetricSpec> m;
  m["temp"].profile = core::ConditionProfile{18.0, 26.0, 14.0, 31.0};  // explicit critical bounds
  m["frost"].profile = core::ProfileFromMargin(-10.0, 0.0, 0.2);       // negative and zero bounds
  m["hum"] = core::MetricSpec{};                                       // no profile
  m["energy"].kind = core::MetricKind::kCounter;
  m["energy"].jitter = 0.05;
  m["pulses"].kind = core::MetricKind::kCounter;
  m["pulses"].profile = core::ProfileFromMargin(0.0, 5000.0, 0.2);
  return m;
}

core::Reading MakeReading(const std::string& device, const std::string& metric, core::TimeUs ts,
                          double value) {
  core::Reading r;
  r.device = device;
  r.metric = metric;
  r.ts = ts;
  r.value = value;
  r.ts_source = core::TsSource::kDevice;
  return r;
}

struct Scenario {
  std::uint64_t seed = 1;
  core::TimeUs start = 0;
  int devices = 6;
  int readings_per_series = 120;
  double late_fraction = 0.02;  // arrive hours after their neighbours: outside the window
  bool uploads = true;          // delete raw readings between commits, as an upload does
};

// Readings of every series in arrival order: locally shuffled within 20 minutes (inside the
// 30-minute window), a few held back for hours, some exactly on hour edges.
std::vector<core::Reading> Generate(const Scenario& sc,
                                    const std::map<std::string, core::MetricSpec>& metrics) {
  std::mt19937_64 rng(sc.seed);
  std::vector<std::pair<core::TimeUs, core::Reading>> keyed;
  for (int d = 0; d < sc.devices; ++d) {
    for (const auto& [metric, spec] : metrics) {
      core::TimeUs ts = sc.start + static_cast<core::TimeUs>(rng() % 600) * kMicrosPerSecond;
      double v = static_cast<double>(rng() % 100);
      for (int i = 0; i < sc.readings_per_series; ++i) {
        ts += static_cast<core::TimeUs>(1 + rng() % 900) * kMicrosPerSecond +
              static_cast<core::TimeUs>(rng() % 1000);
        if (rng() % 10 == 0) ts = store::HourBucketStart(ts) + kMicrosPerHour;  // on the edge
        if (spec.kind == core::MetricKind::kCounter) {
          std::uint64_t roll = rng() % 40;
          if (roll == 0)
            v = static_cast<double>(rng() % 10);  // reset
          else if (roll < 5)
            v -= 0.01 * static_cast<double>(rng() % 5);  // jitter-sized dip
          else
            v += static_cast<double>(rng() % 1000) / 100.0;
        } else {
          v = static_cast<double>(static_cast<int>(rng() % 600) - 200) / 10.0;  // -20 .. 40
        }
        core::TimeUs arrival = ts + static_cast<core::TimeUs>(rng() % 1200) * kMicrosPerSecond;
        if (static_cast<double>(rng() % 10000) < sc.late_fraction * 10000)
          arrival += 4 * kMicrosPerHour;
        keyed.emplace_back(arrival, MakeReading("dev" + std::to_string(d), metric, ts, v));
      }
    }
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<core::Reading> out;
  for (auto& [arrival, r] : keyed) out.push_back(std::move(r));
  return out;
}

BucketMap ReadBuckets(store::Database& db, bool hourly) {
  auto stmt = db.Prepare(
      hourly ? "SELECT s.device, s.metric, b.bucket, n, sum_v, min_v, max_v, last_v, last_ts, "
               "delta, optimal_n, critical_n FROM agg_hourly b JOIN series s ON s.id = b.series_id"
             : "SELECT s.device, s.metric, b.day, n, sum_v, min_v, max_v, last_v, last_ts, "
               "delta, optimal_n, critical_n FROM agg_daily b JOIN series s ON s.id = b.series_id");
  CHECK_TRUE(stmt.has_value());
  BucketMap out;
  while (*stmt->Step()) {
    store::BucketStats b;
    b.n = stmt->ColumnInt64(3);
    b.sum = stmt->ColumnDouble(4);
    b.min = stmt->ColumnDouble(5);
    b.max = stmt->ColumnDouble(6);
    b.last = stmt->ColumnDouble(7);
    b.last_ts = stmt->ColumnInt64(8);
    if (!stmt->ColumnIsNull(9)) b.delta = stmt->ColumnDouble(9);
    if (!stmt->ColumnIsNull(10)) b.optimal_n = stmt->ColumnInt64(10);
    if (!stmt->ColumnIsNull(11)) b.critical_n = stmt->ColumnInt64(11);
    out[{stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnInt64(2)}] = b;
  }
  return out;
}

}  // namespace

TEST_GROUP(AggregateStore) {
  testing::TempDir dir;
  core::FakeClock clock;
  std::unique_ptr<store::Store> raw;
  std::optional<AggregateStore> agg;
  std::map<std::string, core::MetricSpec> metrics = Metrics();

  void Open(const std::string& zone) {
    auto opened = store::Store::Open(dir.path(), store::StoreOptions{}, clock);
    CHECK_TRUE(opened.has_value());
    raw = std::move(*opened);
    store::AggregateOptions options;
    options.timezone = zone;
    options.late_window_s = 1800;
    auto a = AggregateStore::Open(raw->database(), options, metrics);
    CHECK_TRUE(a.has_value());
    agg.emplace(std::move(*a));
    raw->SetObserver(&*agg);
  }

  void Commit(const std::vector<core::Reading>& readings) {
    store::IngestBatch batch;
    batch.input = "test";
    for (const core::Reading& r : readings) batch.frames.push_back(store::IngestFrame{{r}});
    auto result = raw->Commit(batch);
    CHECK_TRUE(result.has_value());
    LONGLONGS_EQUAL(static_cast<long long>(readings.size()), result->accepted);
  }

  void UploadOldest(std::size_t n) {
    auto batch = raw->OldestPending(n);
    CHECK_TRUE(batch.has_value());
    CHECK_TRUE(raw->DeleteUploaded(batch->ids).has_value());
  }

  // Feeds the scenario through Store::Commit in batches, mirroring it into the oracle.
  AggregateOracle Run(const Scenario& sc, const std::string& zone) {
    Open(zone);
    AggregateOracle oracle(zone, 1800);
    std::vector<core::Reading> all = Generate(sc, metrics);
    std::mt19937_64 rng(sc.seed + 1);
    for (std::size_t i = 0; i < all.size();) {
      std::size_t n = std::min<std::size_t>(1 + rng() % 60, all.size() - i);
      std::vector<core::Reading> batch(all.begin() + static_cast<std::ptrdiff_t>(i),
                                       all.begin() + static_cast<std::ptrdiff_t>(i + n));
      Commit(batch);
      for (const core::Reading& r : batch) oracle.Add(r, metrics.at(r.metric));
      if (sc.uploads && rng() % 4 == 0) UploadOldest(rng() % 80);
      i += n;
    }
    return oracle;
  }

  // The buckets as the aggregates hand them out: every stored reading folded first.
  BucketMap Buckets(bool hourly) {
    auto folded = agg->FoldAll();
    CHECK_TEXT(folded.has_value(), folded ? "" : folded.error().message.c_str());
    return ReadBuckets(raw->database(), hourly);
  }

  void teardown() override {
    agg.reset();
    raw.reset();
  }
};

TEST(AggregateStore, MatchesTheOracleAcrossBerlinFallBack) {
  Scenario sc;
  sc.seed = 7;
  sc.start = At("2026-10-24T18:00:00Z");  // 120 readings * ~7.5 min: past the 25-hour day
  AggregateOracle oracle = Run(sc, "Europe/Berlin");
  testing::CheckSameBuckets(oracle.Buckets(true), Buckets(true));
  testing::CheckSameBuckets(oracle.Buckets(false), Buckets(false));
  CHECK(oracle.LateCount() > 0);
  LONGLONGS_EQUAL(oracle.LateCount(), raw->Stats()->late);
}

TEST(AggregateStore, MatchesTheOracleAcrossBerlinSpringForward) {
  Scenario sc;
  sc.seed = 11;
  sc.start = At("2026-03-28T20:00:00Z");
  AggregateOracle oracle = Run(sc, "Europe/Berlin");
  testing::CheckSameBuckets(oracle.Buckets(true), Buckets(true));
  testing::CheckSameBuckets(oracle.Buckets(false), Buckets(false));
}

TEST(AggregateStore, MatchesTheOracleInAHalfHourZone) {
  Scenario sc;
  sc.seed = 13;
  sc.start = At("2026-11-21T12:00:00Z");
  AggregateOracle oracle = Run(sc, "Asia/Kolkata");
  testing::CheckSameBuckets(oracle.Buckets(true), Buckets(true));
  testing::CheckSameBuckets(oracle.Buckets(false), Buckets(false));
  LONGLONGS_EQUAL(oracle.LateCount(), raw->Stats()->late);
}

TEST(AggregateStore, DeletingRawReadingsBeforeTheHourClosesChangesNothing) {
  Open("UTC");
  core::TimeUs h = At("2026-11-22T10:00:00Z");
  Commit({MakeReading("d", "energy", h + 1 * kMicrosPerSecond, 100.0),
          MakeReading("d", "energy", h + 60 * kMicrosPerSecond, 101.0)});
  UploadOldest(10);  // both raw readings leave the store mid-hour
  LONGLONGS_EQUAL(0, raw->Stats()->pending_readings);
  // A late reading between them still finds its neighbours in the window.
  Commit({MakeReading("d", "energy", h + 30 * kMicrosPerSecond, 100.4),
          MakeReading("d", "energy", h + 90 * kMicrosPerSecond, 103.0)});
  BucketMap buckets = Buckets(true);
  const store::BucketStats& b = buckets.at({"d", "energy", h});
  LONGLONGS_EQUAL(4, b.n);
  DOUBLES_EQUAL(3.0, *b.delta, 1e-9);
  DOUBLES_EQUAL(103.0, b.last, 0);
}

TEST(AggregateStore, RecomputeRewritesOnlyBucketsWhoseReadingsAreAllLocal) {
  Scenario sc;
  sc.seed = 17;
  sc.start = At("2026-11-21T00:00:00Z");
  sc.devices = 3;
  sc.late_fraction = 0.0;  // late readings would be folded in by a recompute, by design
  AggregateOracle oracle = Run(sc, "Europe/Berlin");
  BucketMap before = Buckets(true);

  auto same = agg->Recompute(BucketKind::kHourly, sc.start, sc.start + 48 * kMicrosPerHour, false);
  CHECK_TRUE(same.has_value());
  CHECK(same->skipped_incomplete > 0);              // uploads removed some readings
  CHECK(same->buckets > same->skipped_incomplete);  // and left others whole
  LONGLONGS_EQUAL(0, same->rewritten);              // the incremental result is the same

  // Damage every bucket; only the complete ones can be repaired from raw readings.
  CHECK_TRUE(raw->database().Exec("UPDATE agg_hourly SET sum_v = -1, delta = 999").has_value());
  auto dry = agg->Recompute(BucketKind::kHourly, sc.start, sc.start + 48 * kMicrosPerHour, true);
  CHECK_TRUE(dry.has_value());
  LONGLONGS_EQUAL(same->buckets - same->skipped_incomplete, dry->rewritten);
  DOUBLES_EQUAL(-1.0, Buckets(true).begin()->second.sum, 0);  // dry run
  auto fixed = agg->Recompute(BucketKind::kHourly, sc.start, sc.start + 48 * kMicrosPerHour, false);
  CHECK_TRUE(fixed.has_value());
  LONGLONGS_EQUAL(dry->rewritten, fixed->rewritten);
  BucketMap after = Buckets(true);
  BucketMap expected = oracle.Buckets(true);
  long long repaired = 0;
  for (const auto& [key, b] : after) {
    if (b.sum != -1.0) {
      testing::CheckSameBuckets({{key, expected.at(key)}}, {{key, b}});
      ++repaired;
    }
  }
  LONGLONGS_EQUAL(fixed->rewritten, repaired);
  LONGLONGS_EQUAL(static_cast<long long>(before.size()), static_cast<long long>(after.size()));

  auto daily = agg->Recompute(BucketKind::kDaily, sc.start, sc.start + 48 * kMicrosPerHour, false);
  CHECK_TRUE(daily.has_value());
  LONGLONGS_EQUAL(0, daily->rewritten);
}

TEST(AggregateStore, PendingBucketsAreMarkedUploadedOnlyAtTheVersionRead) {
  Open("UTC");
  core::TimeUs h = At("2026-11-22T10:00:00Z");
  Commit({MakeReading("d", "temp", h + kMicrosPerSecond, 20.0)});
  auto hourly = agg->PendingHourly(100);
  auto daily = agg->PendingDaily(100);
  CHECK_TRUE(hourly.has_value() && daily.has_value());
  LONGLONGS_EQUAL(1, static_cast<long long>(hourly->size()));
  STRCMP_EQUAL("temp", (*hourly)[0].metric.c_str());
  LONGLONGS_EQUAL(h, (*hourly)[0].bucket);
  DOUBLES_EQUAL(100.0, *(*hourly)[0].stats.optimal_pct(), 1e-12);
  STRCMP_EQUAL("UTC", (*daily)[0].tz.c_str());
  LONGLONGS_EQUAL(2, *agg->PendingCount());

  // The hour changes between the read and the remote COMMIT: it must stay pending.
  Commit({MakeReading("d", "temp", h + 2 * kMicrosPerSecond, 30.0)});
  CHECK_TRUE(agg->FoldAll().has_value());
  LONGLONGS_EQUAL(0, *agg->MarkUploaded(*hourly));
  LONGLONGS_EQUAL(0, *agg->MarkUploaded(*daily));
  auto again = agg->PendingHourly(100);
  LONGLONGS_EQUAL(2, (*again)[0].stats.n);
  LONGLONGS_EQUAL(1, *agg->MarkUploaded(*again));
  // The daily row read before the second reading is still pending.
  LONGLONGS_EQUAL(1, *agg->PendingCount());
}

TEST(AggregateStore, CleanupKeepsBucketsNotYetUploaded) {
  Open("UTC");
  core::TimeUs old = At("2026-01-01T10:00:00Z");
  Commit({MakeReading("a", "hum", old, 1.0), MakeReading("b", "hum", old, 2.0)});
  auto hourly = agg->PendingHourly(100);
  std::vector<store::HourlyRow> only_a(hourly->begin(), hourly->begin() + 1);
  CHECK_TRUE(agg->MarkUploaded(only_a).has_value());
  core::TimeUs now = At("2026-11-22T00:00:00Z");
  auto dry = agg->Cleanup(now, true);
  LONGLONGS_EQUAL(1, dry->hourly);
  LONGLONGS_EQUAL(0, dry->daily);         // 730 days of daily retention
  LONGLONGS_EQUAL(1, dry->kept_pending);  // b's hour: past retention, never uploaded
  auto done = agg->Cleanup(now, false);
  LONGLONGS_EQUAL(1, done->hourly);
  auto left = agg->PendingHourly(100);
  LONGLONGS_EQUAL(1, static_cast<long long>(left->size()));
  STRCMP_EQUAL("b", (*left)[0].device.c_str());
}

TEST(AggregateStore, WatermarksTrailTheLateWindow) {
  Open("Asia/Kolkata");
  store::Watermarks w = agg->WatermarksAt(At("2026-11-22T10:20:00Z"));  // settled at 09:50Z
  LONGLONGS_EQUAL(At("2026-11-22T08:00:00Z"), w.hourly);
  LONGLONGS_EQUAL(*core::ParseIsoDate("2026-11-21"), w.daily);
  w = agg->WatermarksAt(At("2026-11-22T10:30:00Z"));  // settled exactly at 10:00Z
  LONGLONGS_EQUAL(At("2026-11-22T09:00:00Z"), w.hourly);
}

TEST(AggregateStore, UnknownZoneIsRefused) {
  auto opened = store::Store::Open(dir.path(), store::StoreOptions{}, clock);
  store::AggregateOptions options;
  options.timezone = "Europe/Atlantis";
  auto a = AggregateStore::Open((*opened)->database(), options, {});
  CHECK_FALSE(a.has_value());
  CHECK(a.error().code == core::Errc::kInvalidArgument);
}

TEST(AggregateStore, ACrashBetweenFoldsLosesNothing) {
  Scenario sc;
  sc.seed = 19;
  sc.start = At("2026-10-24T18:00:00Z");
  AggregateOracle oracle = Run(sc, "Europe/Berlin");
  auto unfolded = agg->UnfoldedCount();
  CHECK_TRUE(unfolded.has_value());
  CHECK(*unfolded > 0);  // the last commits were not folded yet
  // The process dies: nothing folds on the way out. The next open folds where it stopped.
  agg.reset();
  raw.reset();
  Open("Europe/Berlin");
  testing::CheckSameBuckets(oracle.Buckets(true), Buckets(true));
  testing::CheckSameBuckets(oracle.Buckets(false), Buckets(false));
  LONGLONGS_EQUAL(oracle.LateCount(), raw->Stats()->late);
  LONGLONGS_EQUAL(0, *agg->UnfoldedCount());
}

TEST(AggregateStore, AFoldThatTheCommitRoomCutsShortGoesOnAtTheNextCommits) {
  // On a nearly full disk a commit may add little to the WAL: a due fold of more readings than
  // fit is spread over the next commits, and ends with the same buckets.
  Open("UTC");
  const core::TimeUs h = At("2026-11-22T10:00:00Z");
  const std::int64_t total = AggregateStore::kFoldReadings + 100;
  std::vector<core::Reading> readings;
  for (std::int64_t i = 0; i < total; ++i)
    readings.push_back(MakeReading("d", "temp", h + i, 20.0));
  raw->SetObserver(nullptr);  // stored without a fold; the next commit's fold is due
  Commit(readings);
  raw->SetObserver(&*agg);
  store::Database& db = raw->database();
  auto commit_with_room = [&](std::size_t count, std::int64_t room_bytes) {
    CHECK_TRUE(db.Exec("BEGIN").has_value());
    CHECK_TRUE(agg->Stored(db, count, room_bytes).has_value());
    CHECK_TRUE(db.Exec("COMMIT").has_value());
    return *agg->UnfoldedCount();
  };
  const std::int64_t room = 4096 * 64;  // 4096 readings' worth
  LONGLONGS_EQUAL(total - 4096, commit_with_room(static_cast<std::size_t>(total), room));
  LONGLONGS_EQUAL(total - 2 * 4096, commit_with_room(0, room));
  while (*agg->UnfoldedCount() > 0) commit_with_room(0, room);
  LONGLONGS_EQUAL(total, ReadBuckets(db, true).at({"d", "temp", h}).n);
  // Complete: the schedule starts again, and a small commit does not fold.
  Commit({MakeReading("d", "temp", h + total, 21.0)});
  LONGLONGS_EQUAL(1, *agg->UnfoldedCount());
}

// The aggregate tables as stores before the time-first keys wrote them (store schema version 6
// applied on top, as it is when such a store is opened: the late window still apart).
constexpr const char* kSeriesFirstLayout = R"sql(
DROP TABLE agg_newest;
DROP INDEX agg_hourly_pending;
DROP INDEX agg_daily_pending;
ALTER TABLE agg_hourly RENAME TO h;
ALTER TABLE agg_daily RENAME TO d;
ALTER TABLE agg_removed RENAME TO r;
CREATE TABLE agg_window(series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
  PRIMARY KEY(series_id, ts)) WITHOUT ROWID;
CREATE TABLE agg_hourly(series_id INTEGER NOT NULL, bucket INTEGER NOT NULL,
  n INTEGER NOT NULL, sum_v REAL NOT NULL, min_v REAL NOT NULL, max_v REAL NOT NULL,
  last_v REAL NOT NULL, last_ts INTEGER NOT NULL, delta REAL, optimal_n INTEGER,
  critical_n INTEGER, version INTEGER NOT NULL DEFAULT 1,
  uploaded_version INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(series_id, bucket)) WITHOUT ROWID;
CREATE INDEX agg_hourly_pending ON agg_hourly(bucket) WHERE version > uploaded_version;
CREATE TABLE agg_daily(series_id INTEGER NOT NULL, day INTEGER NOT NULL, tz TEXT NOT NULL,
  start_ts INTEGER NOT NULL, end_ts INTEGER NOT NULL,
  n INTEGER NOT NULL, sum_v REAL NOT NULL, min_v REAL NOT NULL, max_v REAL NOT NULL,
  last_v REAL NOT NULL, last_ts INTEGER NOT NULL, delta REAL, optimal_n INTEGER,
  critical_n INTEGER, version INTEGER NOT NULL DEFAULT 1,
  uploaded_version INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(series_id, day)) WITHOUT ROWID;
CREATE INDEX agg_daily_pending ON agg_daily(day) WHERE version > uploaded_version;
CREATE TABLE agg_removed(series_id INTEGER NOT NULL, quarter INTEGER NOT NULL,
  n INTEGER NOT NULL, PRIMARY KEY(series_id, quarter)) WITHOUT ROWID;
INSERT INTO agg_window SELECT series_id, ts, value FROM reading_keys
  WHERE aside = 0 AND (reading_id IS NULL OR reading_id <= (SELECT through FROM agg_fold));
DELETE FROM reading_keys WHERE NOT EXISTS (SELECT 1 FROM readings r WHERE r.id = reading_id);
UPDATE reading_keys SET aside = 0 WHERE aside = 2;
CREATE TRIGGER readings_key_gone AFTER DELETE ON readings BEGIN
  DELETE FROM reading_keys WHERE ts = OLD.ts AND series_id = OLD.series_id AND reading_id = OLD.id;
END;
INSERT INTO agg_hourly SELECT * FROM h;
INSERT INTO agg_daily SELECT * FROM d;
INSERT INTO agg_removed SELECT series_id, quarter, n FROM r;
DROP TABLE h; DROP TABLE d; DROP TABLE r;
CREATE TRIGGER agg_count_removed AFTER DELETE ON readings BEGIN
  INSERT INTO agg_removed(series_id, quarter, n) VALUES (OLD.series_id, OLD.ts / 900000000, 1)
    ON CONFLICT(series_id, quarter) DO UPDATE SET n = n + 1;
END;
)sql";

TEST(AggregateStore, AStoreWithSeriesFirstKeysIsRekeyedAndGoesOnWhereItStopped) {
  Scenario sc;
  sc.seed = 23;
  sc.start = At("2026-10-24T18:00:00Z");
  Open("Europe/Berlin");
  AggregateOracle oracle("Europe/Berlin", 1800);
  std::vector<core::Reading> all = Generate(sc, metrics);
  const std::size_t half = all.size() / 2;
  auto feed = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; i += 40) {
      std::vector<core::Reading> batch(
          all.begin() + static_cast<std::ptrdiff_t>(i),
          all.begin() + static_cast<std::ptrdiff_t>(std::min(i + 40, to)));
      Commit(batch);
      for (const core::Reading& r : batch) oracle.Add(r, metrics.at(r.metric));
      if (i % 120 == 0) UploadOldest(50);
    }
  };
  feed(0, half);
  const BucketMap hourly = Buckets(true);
  const BucketMap daily = Buckets(false);
  auto count = [&](const char* sql) { return raw->database().QueryInt64(sql)->value_or(-1); };
  const char* kWindowKeys =
      "SELECT count(*) FROM reading_keys WHERE aside = 0 AND "
      "(reading_id IS NULL OR reading_id <= (SELECT through FROM agg_fold))";
  const std::int64_t window_rows = count(kWindowKeys);
  const std::int64_t removed = count("SELECT sum(n) FROM agg_removed");
  CHECK(window_rows > 0 && removed > 0);
  CHECK_TRUE(raw->database().Exec(kSeriesFirstLayout).has_value());
  agg.reset();
  raw.reset();

  Open("Europe/Berlin");  // rekeys
  LONGLONGS_EQUAL(0, count("SELECT count(*) FROM sqlite_master WHERE name = 'agg_window'"));
  LONGLONGS_EQUAL(1, count("SELECT count(*) FROM pragma_table_info('agg_removed') "
                           "WHERE name = 'quarter' AND pk = 1"));
  LONGLONGS_EQUAL(window_rows, count(kWindowKeys));
  LONGLONGS_EQUAL(removed, count("SELECT sum(n) FROM agg_removed"));
  LONGLONGS_EQUAL(count("SELECT count(DISTINCT series_id) FROM reading_keys WHERE aside = 0 AND "
                        "(reading_id IS NULL OR reading_id <= (SELECT through FROM agg_fold))"),
                  count("SELECT count(*) FROM agg_newest n WHERE ts = "
                        "(SELECT max(ts) FROM reading_keys k WHERE k.series_id = n.series_id AND "
                        "k.aside = 0 AND (k.reading_id IS NULL OR "
                        "k.reading_id <= (SELECT through FROM agg_fold)))"));
  testing::CheckSameBuckets(hourly, ReadBuckets(raw->database(), true));
  testing::CheckSameBuckets(daily, ReadBuckets(raw->database(), false));
  // The rest of the readings, counters' deltas across the upgrade included, fold as if nothing
  // had happened; uploads go on being counted in agg_removed.
  feed(half, all.size());
  testing::CheckSameBuckets(oracle.Buckets(true), Buckets(true));
  testing::CheckSameBuckets(oracle.Buckets(false), Buckets(false));
  LONGLONGS_EQUAL(oracle.LateCount(), raw->Stats()->late);
  CHECK(count("SELECT sum(n) FROM agg_removed") > removed);
}

TEST(AggregateStore, AReadingCannotLeaveTheOutboxBeforeItIsFolded) {
  Open("UTC");
  core::TimeUs h = At("2026-11-22T10:00:00Z");
  Commit({MakeReading("d", "temp", h, 20.0), MakeReading("d", "temp", h + kMicrosPerSecond, 21.0)});
  LONGLONGS_EQUAL(2, *agg->UnfoldedCount());
  // A path that removes readings without settling fails (its transaction rolls back).
  auto batch = raw->OldestPending(10);
  store::Database& db = raw->database();
  CHECK_TRUE(db.Exec("BEGIN").has_value());
  auto removed = agg->Removed(db, {store::RemovedReading{batch->ids[0], 1, h, false}});
  CHECK_TRUE(db.Exec("ROLLBACK").has_value());
  CHECK_FALSE(removed.has_value());
  CHECK(removed.error().code == core::Errc::kInternal);
  CHECK(removed.error().message.find("before it is aggregated") != std::string::npos);
  LONGLONGS_EQUAL(2, raw->Stats()->pending_readings);
  // Every path of the store settles first, through the newest reading it removes.
  UploadOldest(1);
  LONGLONGS_EQUAL(1, *agg->UnfoldedCount());
  LONGLONGS_EQUAL(2, Buckets(true).at({"d", "temp", h}).n);
}

TEST(AggregateStore, IdsAreNotReusedAfterTheOutboxEmpties) {
  Open("UTC");
  core::TimeUs h = At("2026-11-22T10:00:00Z");
  Commit({MakeReading("d", "temp", h, 20.0), MakeReading("d", "temp", h + kMicrosPerSecond, 21.0)});
  UploadOldest(10);  // folded, uploaded, deleted: the table is empty
  Commit({MakeReading("d", "temp", h + 2 * kMicrosPerSecond, 22.0)});
  // Had the new reading taken id 1 (at or below the fold mark), it would never be folded.
  LONGLONGS_EQUAL(1, *agg->UnfoldedCount());
  LONGLONGS_EQUAL(3, Buckets(true).at({"d", "temp", h}).n);
}

// The duplicate filter skips its window lookup above a per-series bound kept in memory: the
// bound, first read while the window was empty, must follow every fold of the same connection.
TEST(AggregateStore, AnUploadedReadingSentAgainByTheSameConnectionIsADuplicate) {
  Open("UTC");
  core::TimeUs h = At("2026-11-22T10:00:00Z");
  const std::vector<core::Reading> first = {MakeReading("d", "temp", h, 20.0),
                                            MakeReading("d", "temp", h + kMicrosPerSecond, 21.0)};
  Commit(first);  // the filter asked about both while the series had no window
  CHECK_TRUE(agg->FoldAll().has_value());
  UploadOldest(10);
  store::IngestBatch again;
  again.input = "test";
  for (const core::Reading& r : first) again.frames.push_back(store::IngestFrame{{r}});
  again.frames.push_back(
      store::IngestFrame{{MakeReading("d", "temp", h + 2 * kMicrosPerSecond, 22.0)}});
  auto result = raw->Commit(again);
  CHECK_TRUE(result.has_value());
  LONGLONGS_EQUAL(1, result->accepted);
  LONGLONGS_EQUAL(2, result->duplicates);
  LONGLONGS_EQUAL(3, Buckets(true).at({"d", "temp", h}).n);
}

TEST(AggregateStore, AnUploadLeavesTheLateWindowKeysAsTheyWereAndCountsWhatLeft) {
  Open("UTC");  // late window 1800 s
  const core::TimeUs h = At("2026-11-22T10:00:00Z");
  // Two readings an hour before the rest: behind the window once they are folded, the newer
  // one its anchor.
  std::vector<core::Reading> readings = {MakeReading("d", "temp", h - 3600 * kMicrosPerSecond, 1),
                                         MakeReading("d", "temp", h - 3599 * kMicrosPerSecond, 2)};
  for (int i = 0; i < 5; ++i) readings.push_back(MakeReading("d", "temp", h + i, 20.0 + i));
  Commit(readings);
  auto count = [&](const std::string& sql) {
    return raw->database().QueryInt64(sql)->value_or(-1);
  };
  const char* kKeys =
      "SELECT group_concat(ts || ':' || reading_id || ':' || aside, ',') FROM "
      "(SELECT * FROM reading_keys WHERE ts >= ";
  auto keys = [&]() {
    return raw->database().QueryText(kKeys + std::to_string(h) + " ORDER BY ts)")->value_or("");
  };
  const std::string before = keys();
  UploadOldest(10);
  LONGLONGS_EQUAL(0, raw->Stats()->pending_readings);
  // The window's keys stay as they were (reading ids included), no longer pending, and so does
  // the anchor's; the oldest reading's key, below the anchor, went with it.
  STRCMP_EQUAL(before.c_str(), keys().c_str());
  LONGLONGS_EQUAL(6, count("SELECT count(*) FROM reading_keys"));
  LONGLONGS_EQUAL(0, count("SELECT count(*) FROM reading_keys WHERE ts < " +
                           std::to_string(h - 3599 * kMicrosPerSecond)));
  LONGLONGS_EQUAL(
      0, count(std::string("SELECT count(*) FROM reading_keys WHERE ") + store::kKeyIsPending));
  LONGLONGS_EQUAL(7, count("SELECT sum(n) FROM agg_removed"));
  LONGLONGS_EQUAL(2, count("SELECT count(*) FROM agg_removed"));  // two quarter hours
}

TEST(AggregateStore, ReadingsOfAnAggregatedStoreDoNotLeaveWithoutItsAggregates) {
  Open("UTC");
  const core::TimeUs h = At("2026-11-22T10:00:00Z");
  Commit({MakeReading("d", "temp", h, 20.0), MakeReading("d", "temp", h + 1, 21.0)});
  CHECK_TRUE(agg->FoldAll().has_value());
  raw->SetObserver(nullptr);
  auto batch = raw->OldestPending(10);
  auto deleted = raw->DeleteUploaded(batch->ids);
  CHECK_FALSE(deleted.has_value());
  CHECK(deleted.error().code == core::Errc::kInternal);
  LONGLONGS_EQUAL(2, raw->Stats()->pending_readings);
  raw->SetObserver(&*agg);
  CHECK_TRUE(raw->DeleteUploaded(batch->ids).has_value());
  LONGLONGS_EQUAL(0, raw->Stats()->pending_readings);
}

TEST(AggregateStore, AQuarantineRetryIsNotAggregatedTwice) {
  Open("UTC");
  core::TimeUs h = At("2026-11-22T10:00:00Z");
  Commit({MakeReading("d", "temp", h, 20.0), MakeReading("d", "temp", h + kMicrosPerSecond, 21.0)});
  auto pending = raw->OldestPending(10);
  CHECK_TRUE(raw->Quarantine({pending->ids[0]}, "refused", "23514").has_value());
  Commit({MakeReading("d", "temp", h + 2 * kMicrosPerSecond, 22.0)});  // unfolded meanwhile
  auto retried = raw->RetryQuarantined(store::QuarantineSelection::All(), false);
  CHECK_TRUE(retried.has_value());
  LONGLONGS_EQUAL(1, retried->rows);
  LONGLONGS_EQUAL(3, raw->Stats()->pending_readings);
  const store::BucketStats b = Buckets(true).at({"d", "temp", h});
  LONGLONGS_EQUAL(3, b.n);  // the retried reading once, the one stored meanwhile once
  DOUBLES_EQUAL(63.0, b.sum, 1e-9);
}

TEST(AggregateStore, AQuarantinedReadingKeepsItsLateWindowKeyAndTakesItBackOnRetry) {
  Open("UTC");
  core::TimeUs h = At("2026-11-22T10:00:00Z");
  Commit({MakeReading("d", "temp", h, 20.0), MakeReading("d", "temp", h + kMicrosPerSecond, 21.0)});
  auto key = [&](const char* what) {
    auto stmt =
        raw->database().Prepare(std::string("SELECT ") + what + " FROM reading_keys WHERE ts = ?1");
    CHECK_TRUE(stmt.has_value());
    CHECK_TRUE(stmt->Bind(1, h));
    CHECK_TRUE(*stmt->Step());
    return stmt->ColumnIsNull(0) ? -1 : stmt->ColumnInt64(0);
  };
  auto pending = raw->OldestPending(10);
  CHECK_TRUE(raw->Quarantine({pending->ids[0]}, "refused", "23514").has_value());
  LONGLONGS_EQUAL(0, key(store::kKeyIsPending));  // left the outbox inside the window: kept
  // While it is quarantined, the same reading arriving again is a duplicate.
  store::IngestBatch again;
  again.input = "test";
  again.frames.push_back(store::IngestFrame{{MakeReading("d", "temp", h, 20.0)}});
  LONGLONGS_EQUAL(1, raw->Commit(again)->duplicates);
  auto retried = raw->RetryQuarantined(store::QuarantineSelection::All(), false);
  CHECK_TRUE(retried.has_value());
  LONGLONGS_EQUAL(0, retried->already_pending);
  LONGLONGS_EQUAL(1, key(store::kKeyIsPending));  // pending again, and still one of the window
  LONGLONGS_EQUAL(0, key("aside"));
  LONGLONGS_EQUAL(2, raw->Stats()->pending_readings);
  LONGLONGS_EQUAL(h, *raw->Stats()->oldest_pending_ts);
  LONGLONGS_EQUAL(2, Buckets(true).at({"d", "temp", h}).n);
}

TEST(AggregateStore, HeldCounterReadingsReleasedBetweenOthersGiveTheDeltasOfInOrderOnes) {
  Open("UTC");
  const core::TimeUs h = At("2026-11-22T10:00:00Z");
  const core::TimeUs now = h + 75 * kMicrosPerSecond;
  clock.Set(now);
  const core::TimeUs boot_now = clock.BootTimeUs();
  clock.SetSynchronized(false);
  // Stamped by the agent while unsynchronised (provisional ts far off), at the boot times that
  // re-stamp them to 09:59:50 and 09:59:55: side by side, so that the first is folded while the
  // second is released but not folded yet.
  store::IngestBatch held;
  held.input = "test";
  for (auto [at, value] : {std::pair{-10, 105.0}, std::pair{-5, 107.0}}) {
    core::Reading r = MakeReading("d", "energy", h + (600 + at) * kMicrosPerSecond, value);
    r.ts_source = core::TsSource::kAgentUnsynced;
    store::IngestFrame frame{{r}};
    frame.held_boot_us = boot_now - (now - (h + at * kMicrosPerSecond));
    held.frames.push_back(frame);
  }
  LONGLONGS_EQUAL(2, raw->Commit(held)->held);
  Commit({MakeReading("d", "energy", h - 20 * kMicrosPerSecond, 100.0),
          MakeReading("d", "energy", h + 30 * kMicrosPerSecond, 110.0),
          MakeReading("d", "energy", h + 60 * kMicrosPerSecond, 120.0)});
  CHECK_TRUE(agg->FoldAll().has_value());
  LONGLONGS_EQUAL(2, raw->database()
                         .QueryInt64("SELECT count(*) FROM reading_keys WHERE aside = 1")
                         ->value_or(-1));

  clock.SetSynchronized(true);
  auto released = raw->ReleaseHeld(false);
  CHECK_TRUE(released.has_value());
  LONGLONGS_EQUAL(2, released->restamped);
  // 100 -> 105 -> 107 in the 09:00 hour, -> 110 -> 120 in the 10:00 hour: each step once.
  const store::BucketStats nine = Buckets(true).at({"d", "energy", h - kMicrosPerHour});
  const store::BucketStats ten = Buckets(true).at({"d", "energy", h});
  LONGLONGS_EQUAL(3, nine.n);
  DOUBLES_EQUAL(7.0, nine.delta.value_or(-1), 1e-9);
  DOUBLES_EQUAL(13.0, ten.delta.value_or(-1), 1e-9);
  LONGLONGS_EQUAL(0, raw->database()
                         .QueryInt64("SELECT count(*) FROM reading_keys WHERE aside <> 0")
                         ->value_or(-1));
  // The incremental buckets are what the raw readings give.
  auto check = agg->Recompute(BucketKind::kHourly, h - kMicrosPerHour, h + kMicrosPerHour, true);
  CHECK_TRUE(check.has_value());
  LONGLONGS_EQUAL(2, check->buckets);
  LONGLONGS_EQUAL(0, check->rewritten);
}

TEST(AggregateStore, ARecomputeFoldsFirstSoItNeverCountsAReadingTwice) {
  Open("UTC");
  core::TimeUs h = At("2026-11-22T10:00:00Z");
  Commit({MakeReading("d", "temp", h, 20.0), MakeReading("d", "temp", h + kMicrosPerSecond, 21.0)});
  auto dry = agg->Recompute(BucketKind::kHourly, h, h + kMicrosPerHour, true);
  CHECK_TRUE(dry.has_value());
  LONGLONGS_EQUAL(0, dry->rewritten);         // the folded buckets already agree
  LONGLONGS_EQUAL(2, *agg->UnfoldedCount());  // and the dry run wrote nothing, not even the fold
  auto done = agg->Recompute(BucketKind::kHourly, h, h + kMicrosPerHour, false);
  CHECK_TRUE(done.has_value());
  LONGLONGS_EQUAL(0, done->rewritten);
  LONGLONGS_EQUAL(2, Buckets(true).at({"d", "temp", h}).n);
}
