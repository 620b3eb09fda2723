// The uploader over the real SQLite store: readings committed locally arrive at the remote
// exactly once and leave the store only after the remote COMMIT.
#include <string>

#include "store/store.hpp"
#include "sync/remote_schema.hpp"
#include "sync/store_outbox.hpp"
#include "sync/uploader.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/sync/pg_test_schema.hpp"

// Last: its leak-detector macros must not meet the standard headers above.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using testing::PgTestSchema;
using testing::TestPgUrl;

TEST_GROUP(StoreUpload){};

TEST(StoreUpload, CommittedReadingsDrainToTheRemote) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto admin = db.Connect();
  CHECK(sync::MigrateSchema(*admin, db.name()).has_value());

  testing::TempDir dir;
  core::FakeClock clock;
  auto store = store::Store::Open(dir.path(), store::StoreOptions{}, clock);
  CHECK_TEXT(store.has_value(), store ? "" : store.error().message.c_str());
  store::IngestBatch batch;
  batch.input = "test";
  for (int i = 0; i < 1200; ++i) {
    store::IngestFrame frame;
    frame.readings.push_back(core::Reading{"dev1", "temperature",
                                           core::kYear2000Us + i * core::kMicrosPerSecond,
                                           20.0 + i / 1000.0, core::TsSource::kDevice});
    batch.frames.push_back(frame);
  }
  auto committed = (*store)->Commit(batch);
  CHECK(committed.has_value());
  LONGS_EQUAL(1200, committed->accepted);

  sync::StoreReadingOutbox outbox(**store);
  sync::UploaderOptions options;
  options.url = *url;
  options.schema = db.name();
  options.gateway = "gw";
  options.instance_id = (*store)->instance_id();
  options.batch_size = 500;
  sync::Uploader uploader(options, outbox, nullptr, clock);
  std::int64_t inserted = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = uploader.RunCycle();
    CHECK_TEXT(r.outcome == sync::UploadOutcome::kOk, r.message.c_str());
    inserted += r.inserted;
    if (!r.more_pending) break;
  }
  LONGS_EQUAL(1200, inserted);
  auto stats = (*store)->Stats();
  LONGS_EQUAL(0, stats->pending_readings);
  auto remote = db.Exec("SELECT count(*), sum(value)::numeric(12,3) FROM \"" + db.name() +
                        "\".readings WHERE gateway = 'gw'");
  STRCMP_EQUAL("1200", std::string(remote.Value(0, 0)).c_str());
  STRCMP_EQUAL("24719.400", std::string(remote.Value(0, 1)).c_str());
  auto owner = db.Exec("SELECT instance_id FROM \"" + db.name() + "\".gateways");
  STRCMP_EQUAL((*store)->instance_id().c_str(), std::string(owner.Value(0, 0)).c_str());
}
