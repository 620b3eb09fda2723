#pragma once
// What the uploader tests share: generated readings, their keys locally and remotely, a fresh
// remote schema with uploader options, and a drain loop.

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/clock.hpp"
#include "sync/remote_schema.hpp"
#include "sync/uploader.hpp"
#include "tests/sync/memory_outbox.hpp"
#include "tests/sync/pg_test_schema.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

namespace fieldsync::testing {

using core::Reading;
using sync::CycleReport;
using sync::Uploader;
using sync::UploaderOptions;
using sync::UploadOutcome;

using Key = std::tuple<std::string, std::string, std::int64_t, double>;

constexpr fieldsync::core::TimeUs kT0 = 1'760'000'000'000'000;

inline std::vector<Reading> Generate(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> value(-1e6, 1e6);
  std::vector<Reading> out;
  for (int i = 0; i < n; ++i) {
    Reading r;
    r.device = "dev-" + std::to_string(i % 7) + ":a.b";
    r.metric = (i % 3 == 0) ? "temperature" : "dc.v1";
    r.ts = kT0 + static_cast<std::int64_t>(i) * 1'000'003;  // odd microseconds on purpose
    r.value = value(rng) / 3.0;
    r.ts_source =
        (i % 2 == 0) ? fieldsync::core::TsSource::kDevice : fieldsync::core::TsSource::kAgent;
    out.push_back(r);
  }
  return out;
}

inline std::set<Key> Keys(const std::vector<Reading>& readings) {
  std::set<Key> keys;
  for (const auto& r : readings) keys.emplace(r.device, r.metric, r.ts, r.value);
  return keys;
}

inline std::set<Key> RemoteKeys(const PgTestSchema& db, const std::string& gateway) {
  auto r = db.Exec(
      "SELECT device, metric, ((extract(epoch FROM ts) * 1000000)::bigint)::text, value::text "
      "FROM \"" +
      db.name() + "\".readings WHERE gateway = '" + gateway + "'");
  std::set<Key> keys;
  for (int i = 0; i < r.rows(); ++i) {
    keys.emplace(std::string(r.Value(i, 0)), std::string(r.Value(i, 1)),
                 std::stoll(std::string(r.Value(i, 2))),
                 std::strtod(std::string(r.Value(i, 3)).c_str(), nullptr));
  }
  return keys;
}

struct Fixture {
  explicit Fixture(const std::string& url, std::size_t batch_size = 1000,
                   std::int64_t op_timeout_s = 10)
      : db(url) {
    auto conn = db.Connect();
    auto migrated = sync::MigrateSchema(*conn, db.name());
    if (!migrated) FAIL(migrated.error().message.c_str());
    options.url = url;
    options.schema = db.name();
    options.gateway = "gh-1";
    options.instance_id = "instance-a";
    options.version = "0.1.0";
    options.batch_size = batch_size;
    options.op_timeout_s = op_timeout_s;
  }
  std::int64_t RemoteCount(const std::string& table) {
    return std::stoll(
        std::string(db.Exec("SELECT count(*) FROM \"" + db.name() + "\"." + table).Value(0, 0)));
  }
  PgTestSchema db;
  UploaderOptions options;
  MemoryReadingOutbox outbox;
  fieldsync::core::FakeClock clock;
};

// Runs cycles until nothing is pending; fails the test on anything but kOk.
inline CycleReport Drain(Uploader& uploader) {
  CycleReport total;
  for (int i = 0; i < 1000; ++i) {
    CycleReport r = uploader.RunCycle();
    if (r.outcome != UploadOutcome::kOk) FAIL(r.message.c_str());
    total.inserted += r.inserted;
    total.skipped += r.skipped;
    total.quarantined += r.quarantined;
    if (!r.more_pending) break;
  }
  return total;
}

}  // namespace fieldsync::testing
