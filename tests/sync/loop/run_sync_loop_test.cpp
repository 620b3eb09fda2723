// The sync loop inside `fieldsync run`, on the real binary and the harness PostgreSQL: a backlog
// ingested before the start reaches the remote exactly, the local store empties, profiles come
// down from the remote and stay local, and SIGTERM is prompt even while the remote is away.
#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "store/profile_cache.hpp"
#include "tests/sync/loop/agent_harness.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

// Writes `n` frames for 3 devices, one reading each, 100 ms apart per device in the last hour.
std::multiset<std::string> WriteFrames(const std::string& path, int n) {
  std::string text;
  std::multiset<std::string> keys;
  const long long base = testing::NowMs() - 3'000'000;
  for (int i = 0; i < n; ++i) {
    const std::string device = "d" + std::to_string(i % 3);
    const long long ts = base + (i / 3) * 100;
    text += testing::JsonFrame(device, ts, i) + "\n";
    keys.insert(testing::ReadingKey(device, "t", ts, i));
  }
  testing::WriteFile(path, text);
  return keys;
}

}  // namespace

TEST_GROUP(RunSyncLoop) { testing::TempDir dir; };

TEST(RunSyncLoop, ReadingsIngestedBeforeRunAreAllRemoteWithinAFewIntervals) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  testing::PgTestSchema schema(*url);
  const std::string config = dir.File("fieldsync.toml");
  testing::WriteFile(config, testing::AgentConfig(dir, schema, 500, 1));
  LONGS_EQUAL(0, testing::RunFieldsync(config, "remote migrate", dir.File("migrate.log")));
  auto generated = WriteFrames(dir.File("frames.jsonl"), 3000);
  LONGS_EQUAL_TEXT(
      0,
      testing::RunFieldsync(config, "ingest " + dir.File("frames.jsonl"), dir.File("ingest.log")),
      testing::ReadFile(dir.File("ingest.log")).c_str());

  testing::RunningAgent agent(config, dir.File("agent.log"));
  CHECK_TEXT(testing::WaitFor([&] { return testing::RemoteCount(schema) == 3000; }, 15s),
             testing::ReadFile(dir.File("agent.log")).c_str());
  CHECK(testing::RemoteReadings(schema) == generated);
  // Aggregates went too: every reading is counted in exactly one remote hourly bucket.
  CHECK(testing::WaitFor([&] { return testing::RemoteCount(schema, "hourly", "sum(n)") == 3000; },
                         5s));

  // last_sync as the running agent reports it.
  std::this_thread::sleep_for(1500ms);  // one more cycle: nothing pending, ok
  testing::RunFieldsync(config, "status --json", dir.File("status.json"));
  auto status = nlohmann::json::parse(testing::ReadFile(dir.File("status.json")), nullptr, false);
  CHECK_TEXT(!status.is_discarded(), testing::ReadFile(dir.File("status.json")).c_str());
  if (status.contains("last_sync") && !status["last_sync"].is_null()) {
    CHECK_TEXT(status["last_sync"]["ok"] == true, status.dump().c_str());
    CHECK(!status["last_sync"]["at"].is_null());
  } else {
    std::fprintf(stderr, "\nNOTE: status without a live agent answer: last_sync not shown\n");
  }

  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(5s));
  LONGS_EQUAL(0, testing::LocalPending(dir.File("state")));
  std::string log = testing::ReadFile(dir.File("agent.log"));
  CHECK_TEXT(log.find(", skipped 0, quarantined 0") != std::string::npos, log.c_str());
  CHECK_TEXT(log.find("fieldsync:fieldsync@") == std::string::npos, "the password was logged");
}

TEST(RunSyncLoop, ProfilesComeFromTheRemoteMergedAndStayInTheStore) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  testing::PgTestSchema schema(*url);
  const std::string config = dir.File("fieldsync.toml");
  const std::string table = schema.name() + ".profiles";
  const std::string extra =
      "[aggregate]\nprofiles_query = \"SELECT metric, lo, hi, clo, chi FROM " + table +
      "\"\nprofiles_refresh_s = 3600\n[metrics.rh]\nunit = \"%\"\noptimal = [40.0, 60.0]\n"
      "critical = [30.0, 70.0]\n";
  testing::WriteFile(config, testing::AgentConfig(dir, schema, 500, 1, extra));
  LONGS_EQUAL(0, testing::RunFieldsync(config, "remote migrate", dir.File("migrate.log")));
  schema.Exec("CREATE TABLE " + table +
              " (metric text, lo float8, hi float8, clo float8, chi float8);"
              "INSERT INTO " +
              table +
              " VALUES ('t', 10, 30, NULL, NULL), ('t', 15, 35, 12, 40),"
              " ('rh', 0, 100, NULL, NULL), ('co2', 400, 800, NULL, 1200)");
  testing::WriteFile(dir.File("frames.jsonl"),
                     testing::JsonFrame("d0", testing::NowMs() - 1000, 20) + "\n");
  LONGS_EQUAL(0, testing::RunFieldsync(config, "ingest " + dir.File("frames.jsonl"),
                                       dir.File("ingest.log")));

  testing::RunningAgent agent(config, dir.File("agent.log"));
  auto metric = [&](const std::string& name) {
    return schema.Exec("SELECT optimal_lo, optimal_hi, critical_lo, critical_hi FROM " +
                       schema.name() + ".metrics WHERE metric = '" + name + "'");
  };
  CHECK_TEXT(testing::WaitFor([&] { return metric("co2").rows() == 1; }, 15s),
             testing::ReadFile(dir.File("agent.log")).c_str());
  auto t = metric("t");  // widest of [10,30] crit [8,36] and [15,35] crit [12,40]
  LONGS_EQUAL(1, t.rows());
  STRCMP_EQUAL("10", std::string(t.Value(0, 0)).c_str());
  STRCMP_EQUAL("35", std::string(t.Value(0, 1)).c_str());
  STRCMP_EQUAL("8", std::string(t.Value(0, 2)).c_str());
  STRCMP_EQUAL("40", std::string(t.Value(0, 3)).c_str());
  auto rh = metric("rh");  // the config file wins
  STRCMP_EQUAL("40", std::string(rh.Value(0, 0)).c_str());
  STRCMP_EQUAL("70", std::string(rh.Value(0, 3)).c_str());
  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(5s));

  // Kept locally for an offline restart.
  auto db = store::Database::Open(dir.File("state") + "/fieldsync.db");
  CHECK(db.has_value());
  auto cache = store::ProfileCache::Open(**db);
  CHECK(cache.has_value());
  auto cached = cache->Load();
  CHECK(cached.has_value());
  LONGS_EQUAL(3, cached->size());
  CHECK(cached->at("co2") == (core::ConditionProfile{400.0, 800.0, 320.0, 1200.0}));
}

TEST(RunSyncLoop, SigtermIsPromptWhileTheRemoteIsUnreachable) {
  // Needs no server: the URL names a port nothing listens on, so the loop backs off.
  const std::string config = dir.File("fieldsync.toml");
  testing::WriteFile(config, "gateway = \"gw-test\"\nstate_dir = \"" + dir.File("state") +
                                 "\"\n[http]\nlisten = \"\"\n[sync]\n"
                                 "url = \"postgresql://u:secret-pw@127.0.0.1:9/x\"\n"
                                 "interval_s = 1\nmax_backoff_s = 60\nop_timeout_s = 5\n");
  testing::RunningAgent agent(config, dir.File("agent.log"));
  std::this_thread::sleep_for(3s);
  const auto termed = std::chrono::steady_clock::now();
  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(5s), testing::ReadFile(dir.File("agent.log")).c_str());
  CHECK(std::chrono::steady_clock::now() - termed < 2s);
  std::string log = testing::ReadFile(dir.File("agent.log"));
  CHECK_TEXT(log.find("will retry") != std::string::npos, log.c_str());
  CHECK_TEXT(log.find("secret-pw") == std::string::npos, log.c_str());
}

TEST(RunSyncLoop, ABatchCommittedByTheInputsWakesTheLoopBeforeItsInterval) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  testing::PgTestSchema schema(*url);
  const std::string config = dir.File("fieldsync.toml");
  testing::WriteFile(config, testing::AgentConfig(dir, schema, 100, 600));
  LONGS_EQUAL(0, testing::RunFieldsync(config, "remote migrate", dir.File("migrate.log")));
  testing::RunningAgent agent(config, dir.File("agent.log"));
  // The first cycle runs at start; the next one by the interval would come in 10 minutes.
  CHECK(testing::WaitFor([&] { return testing::RemoteCount(schema, "gateways") == 1; }, 10s));

  auto generated = WriteFrames(dir.File("frames.jsonl"), 150);
  // Through the running agent's control socket: its grouped commit stores them.
  CHECK_TEXT(testing::WaitFor(
                 [&] {
                   return testing::RunFieldsync(config, "ingest " + dir.File("frames.jsonl"),
                                                dir.File("ingest.log")) == 0;
                 },
                 5s, 200ms),
             testing::ReadFile(dir.File("ingest.log")).c_str());
  CHECK_TEXT(testing::WaitFor([&] { return testing::RemoteCount(schema) == 150; }, 10s),
             testing::ReadFile(dir.File("agent.log")).c_str());
  CHECK(testing::RemoteReadings(schema) == generated);
  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(5s));
}

TEST(RunSyncLoop, ReloadAppliesNewSyncSettingsAndAnEmptyUrlStopsTheLoop) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  testing::PgTestSchema schema(*url);
  const std::string config = dir.File("fieldsync.toml");
  const std::string good = testing::AgentConfig(dir, schema, 500, 1);
  std::string unreachable = good;
  unreachable.replace(unreachable.find(schema.url()), schema.url().size(),
                      "postgresql://u:pw@127.0.0.1:9/x");
  testing::WriteFile(config, good);
  LONGS_EQUAL(0, testing::RunFieldsync(config, "remote migrate", dir.File("migrate.log")));
  auto generated = WriteFrames(dir.File("frames.jsonl"), 1000);
  LONGS_EQUAL(0, testing::RunFieldsync(config, "ingest " + dir.File("frames.jsonl"),
                                       dir.File("ingest.log")));

  testing::WriteFile(config, unreachable);
  testing::RunningAgent agent(config, dir.File("agent.log"));
  std::this_thread::sleep_for(2s);
  LONGS_EQUAL(0, testing::RemoteCount(schema));

  testing::WriteFile(config, good);
  agent.Signal(SIGHUP);
  CHECK_TEXT(testing::WaitFor([&] { return testing::RemoteCount(schema) == 1000; }, 15s),
             testing::ReadFile(dir.File("agent.log")).c_str());
  CHECK(testing::RemoteReadings(schema) == generated);

  // url = "": no more cycles, so the gateways row is no longer refreshed.
  std::string local_only = good;
  local_only.replace(local_only.find(schema.url()), schema.url().size(), "");
  testing::WriteFile(config, local_only);
  agent.Signal(SIGHUP);
  std::this_thread::sleep_for(1500ms);
  const std::string last_sync_at = "SELECT last_sync_at FROM " + schema.name() + ".gateways";
  const std::string before = std::string(schema.Exec(last_sync_at).Value(0, 0));
  std::this_thread::sleep_for(2500ms);
  STRCMP_EQUAL(before.c_str(), std::string(schema.Exec(last_sync_at).Value(0, 0)).c_str());
  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(5s));
  std::string log = testing::ReadFile(dir.File("agent.log"));
  CHECK_TEXT(log.find("sync loop stops") != std::string::npos, log.c_str());
}
