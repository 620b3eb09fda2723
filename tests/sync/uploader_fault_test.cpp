// The upload path through a loopback proxy that misbehaves: a half-open path, connections cut
// right before or right after COMMIT reaches the server (the in-doubt commit), and a slow link
// (transactions of several batches, with resends and refused rows inside them).
#include <chrono>
#include <random>
#include <set>
#include <string>

#include "sync/pg_handles.hpp"
#include "sync/remote_schema.hpp"
#include "sync/uploader.hpp"
#include "tests/sync/memory_outbox.hpp"
#include "tests/sync/pg_test_schema.hpp"
#include "tests/sync/tcp_proxy.hpp"
#include "tests/sync/uploader_fixture.hpp"

// Last: its leak-detector macros must not meet the standard headers above.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using testing::PgTestSchema;
using testing::TcpProxy;
using testing::TestPgUrl;

namespace {

std::vector<core::Reading> Readings(int n, int offset) {
  std::vector<core::Reading> out;
  for (int i = offset; i < offset + n; ++i) {
    out.push_back(core::Reading{"d" + std::to_string(i % 3), "m",
                                core::kYear2000Us + static_cast<core::TimeUs>(i) * 1000, i * 0.5,
                                core::TsSource::kDevice});
  }
  return out;
}

struct ProxyFixture {
  ProxyFixture(const std::string& url, std::int64_t op_timeout_s)
      : db(url), proxy(testing::PgTarget(url).first, testing::PgTarget(url).second) {
    auto conn = db.Connect();
    if (!sync::MigrateSchema(*conn, db.name())) FAIL("migrate");
    options.url = testing::PgThroughProxy(url, proxy.port());
    options.schema = db.name();
    options.gateway = "gw";
    options.instance_id = "i1";
    options.batch_size = 100;
    options.op_timeout_s = op_timeout_s;
  }
  std::int64_t RemoteRows() {
    return std::stoll(
        std::string(db.Exec("SELECT count(*) FROM \"" + db.name() + "\".readings").Value(0, 0)));
  }
  PgTestSchema db;
  TcpProxy proxy;
  sync::UploaderOptions options;
  testing::MemoryReadingOutbox outbox;
  core::FakeClock clock;
};

}  // namespace

TEST_GROUP(UploaderFaults){};

TEST(UploaderFaults, HalfOpenPathIsNoticedWithinTheDeadlineAndNothingIsLost) {
  auto url = TestPgUrl();
  if (!url) return;
  ProxyFixture f(*url, 2);
  sync::Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  for (const auto& r : Readings(50, 0)) f.outbox.Add(r);
  CHECK(uploader.RunCycle().outcome == sync::UploadOutcome::kOk);

  f.proxy.SetFrozen(true);
  for (const auto& r : Readings(50, 50)) f.outbox.Add(r);
  const auto start = std::chrono::steady_clock::now();
  const sync::CycleReport stuck = uploader.RunCycle();
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(stuck.outcome == sync::UploadOutcome::kRetry);
  CHECK(took < std::chrono::seconds(5));
  LONGS_EQUAL(50, f.outbox.pending());

  f.proxy.SetFrozen(false);
  const sync::CycleReport resumed = uploader.RunCycle();
  CHECK_TEXT(resumed.outcome == sync::UploadOutcome::kOk, resumed.message.c_str());
  LONGS_EQUAL(0, f.outbox.pending());
  LONGS_EQUAL(100, f.RemoteRows());
}

TEST(UploaderFaults, CutAroundCommitLosesAndDuplicatesNothing) {
  auto url = TestPgUrl();
  if (!url) return;
  ProxyFixture f(*url, 5);
  sync::Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  std::mt19937 rng(11);
  int offset = 0;
  int retries = 0;
  for (int round = 0; round < 20; ++round) {
    const int n = 10 + static_cast<int>(rng() % 90);
    for (const auto& r : Readings(n, offset)) f.outbox.Add(r);
    offset += n;
    f.proxy.CutOn("COMMIT", round % 2 == 0 ? TcpProxy::Cut::kAfterForwarding
                                           : TcpProxy::Cut::kBeforeForwarding);
    const sync::CycleReport cut = uploader.RunCycle();
    if (cut.outcome == sync::UploadOutcome::kRetry) ++retries;
    CHECK(cut.outcome != sync::UploadOutcome::kError);
    std::int64_t skipped = 0;
    for (int i = 0; i < 5 && f.outbox.pending() > 0; ++i) {
      const sync::CycleReport again = uploader.RunCycle();
      CHECK_TEXT(again.outcome == sync::UploadOutcome::kOk, again.message.c_str());
      skipped += again.skipped;
    }
    // Cut after COMMIT went through: the server committed, the agent could not know, resent
    // everything and the key absorbed it. Cut before: nothing had landed.
    LONGS_EQUAL(round % 2 == 0 ? n : 0, skipped);
    LONGS_EQUAL(0, f.outbox.pending());
    LONGS_EQUAL(offset, f.RemoteRows());  // primary key: a count equal to offset means no loss
  }
  LONGS_EQUAL(20, retries);
  LONGS_EQUAL(20, f.proxy.cuts());
}

namespace {

// 20 batches of 100 behind answers delayed by 20 ms: transactions of several batches.
constexpr int kSlowReadings = 2000;

struct SlowLinkFixture : ProxyFixture {
  explicit SlowLinkFixture(const std::string& url) : ProxyFixture(url, 10) {
    for (const auto& r : Readings(kSlowReadings, 0)) outbox.Add(r);
    proxy.SetAnswerDelay(20);
  }
  std::int64_t RemoteTransactions() {
    return std::stoll(
        std::string(db.Exec("SELECT count(DISTINCT xmin::text) FROM \"" + db.name() + "\".readings")
                        .Value(0, 0)));
  }
};

}  // namespace

TEST(UploaderFaults, OverASlowLinkATransactionCarriesSeveralBatchesAndEveryRowLandsOnce) {
  auto url = TestPgUrl();
  if (!url) return;
  SlowLinkFixture f(*url);
  sync::Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  const sync::CycleReport total = testing::Drain(uploader);
  LONGS_EQUAL(kSlowReadings, total.inserted);
  LONGS_EQUAL(0, f.outbox.pending());
  LONGS_EQUAL(kSlowReadings, f.RemoteRows());
  CHECK(f.RemoteTransactions() < kSlowReadings / 100);
}

TEST(UploaderFaults, RowsAlreadyRemoteInsideASeveralBatchTransactionAreSkippedBatchByBatch) {
  auto url = TestPgUrl();
  if (!url) return;
  SlowLinkFixture f(*url);
  // The rows of readings 750..799 (the middle of the eighth batch) are already there, as after
  // a COMMIT whose answer was lost.
  f.db.Exec("INSERT INTO \"" + f.db.name() +
            "\".readings (gateway, device, metric, ts, value, ts_source) "
            "SELECT 'gw', 'd' || (i % 3), 'm', timestamptz '2000-01-01 00:00:00+00' + "
            "i * interval '1 millisecond', i * 0.5, 'device' FROM generate_series(750, 799) i");
  sync::Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  const sync::CycleReport total = testing::Drain(uploader);
  LONGS_EQUAL(50, total.skipped);
  LONGS_EQUAL(kSlowReadings - 50, total.inserted);
  LONGS_EQUAL(0, f.outbox.pending());
  LONGS_EQUAL(kSlowReadings, f.RemoteRows());
}

TEST(UploaderFaults, ARefusedRowInsideASeveralBatchTransactionIsQuarantinedAndTheRestLand) {
  auto url = TestPgUrl();
  if (!url) return;
  SlowLinkFixture f(*url);
  f.db.Exec("ALTER TABLE \"" + f.db.name() + "\".readings ADD CHECK (value <> 512.5)");
  sync::Uploader uploader(f.options, f.outbox, nullptr, f.clock);
  const sync::CycleReport total = testing::Drain(uploader);
  LONGS_EQUAL(1, total.quarantined);
  LONGS_EQUAL(kSlowReadings - 1, total.inserted);
  LONGS_EQUAL(1, f.outbox.quarantined().size());
  LONGS_EQUAL(0, f.outbox.pending());
  LONGS_EQUAL(kSlowReadings - 1, f.RemoteRows());
}
