// `sync` while `fieldsync run` holds the store: POST /api/run and `fieldsync sync` going through
// the control socket make the agent's sync loop run its cycles at once. The real binary against
// the harness PostgreSQL, checked from the outside (answers, command output, the remote tables,
// the live status).
//
// The agents here sync every hour, so after their first cycle (at start) only a request makes
// them upload: what reaches the remote was sent because someone asked.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/agent/command_runner.hpp"
#include "tests/agent/http/http_client.hpp"
#include "tests/agent/run_net/agent_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/sync/pg_test_schema.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

#include <CppUTest/MemoryLeakWarningPlugin.h>  // after TestHarness.h, which it needs

using namespace fieldsync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The agent helpers cache a std::regex and the HTTP client's io_context allocates once per
// process, which CppUTest's per-test leak accounting reports as leaks of the first test. Its
// new/delete overloads are turned off for this binary before anything is allocated.
const bool kLeakOverloadsOff = [] {
  MemoryLeakWarningPlugin::turnOffNewDeleteOverloads();
  return true;
}();

constexpr const char* kKey = "sync-key-for-tests";

// `n` json frames of one reading each, 10 s apart, ending a minute ago.
std::string Frames(int n) {
  const long long now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::string text;
  for (int i = 0; i < n; ++i) {
    const long long ts = now_ms - 60'000 - static_cast<long long>(n - i) * 10'000;
    text += "{\"device\":\"d" + std::to_string(i % 3) + "\",\"ts\":" + std::to_string(ts) +
            ",\"t\":" + std::to_string(i) + "}\n";
  }
  return text;
}

long long RemoteCount(const testing::PgTestSchema& schema, const std::string& table = "readings",
                      const std::string& expr = "count(*)") {
  auto result = schema.Exec("SELECT coalesce(" + expr + ", 0) FROM " + schema.name() + "." + table);
  return std::stoll(std::string(result.Value(0, 0)));
}

json ParseJson(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) FAIL(("not JSON: " + text).c_str());
  return parsed;
}

// A gateway with its own state directory and remote schema.
struct Gateway {
  testing::TempDir dir;
  std::string config = dir.File("fieldsync.toml");
  std::uint16_t http_port = testing::FreeLoopbackPort();

  void Configure(const testing::PgTestSchema* schema, int batch_size) {
    testing::WriteFile(dir.File("api.key"), std::string(kKey) + "\n");
    ::chmod(dir.File("api.key").c_str(), 0600);
    std::string text = "gateway = \"gw-sync\"\nstate_dir = \"" + dir.File("state") +
                       "\"\n[clock]\ntrust_unsynced = true\n[http]\nlisten = \"127.0.0.1:" +
                       std::to_string(http_port) + "\"\napi_key_file = \"" + dir.File("api.key") +
                       "\"\n";
    if (schema != nullptr) {
      text += "[sync]\nurl = \"" + schema->url() + "\"\nschema = \"" + schema->name() +
              "\"\nbatch_size = " + std::to_string(batch_size) +
              "\ninterval_s = 3600\nmax_backoff_s = 2\nop_timeout_s = 5\n";
    }
    testing::WriteFile(config, text);
  }

  testing::CommandOutput Run(const std::string& args) {
    return testing::RunFieldsync(dir, "--config '" + config + "' " + args);
  }

  testing::HttpAnswer PostRun(const std::string& body) {
    testing::HttpClient client(http_port);
    return client.Send("POST", "/api/run", body, std::string(kKey));
  }
};

// Starts `run` and waits until it serves HTTP and, with a remote, finished its first cycle.
void WaitUntilIdle(testing::AgentProcess& agent, Gateway& gw, bool remote) {
  CHECK_TEXT(agent.WaitForHttpPort(10s) != 0, agent.Log().c_str());
  if (!remote) return;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto status = testing::LiveStatus(gw.http_port);
    if (status && status->contains("last_sync") && (*status)["last_sync"].is_object() &&
        !(*status)["last_sync"]["at"].is_null()) {
      CHECK_TEXT((*status)["last_sync"]["ok"] == true, status->dump().c_str());
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  FAIL(("no first sync cycle; agent log:\n" + agent.Log()).c_str());
}

// Readings the agent's loop is not told about: committed from this process straight into the
// store (a second SQLite writer, as the agent's sync thread is), so no batch-full wake-up starts
// a cycle on its own.
void CommitBehindTheAgent(const std::string& state_dir, int n, int first_value) {
  core::SystemClock clock;
  auto store = store::Store::Open(state_dir, store::StoreOptions{}, clock);
  CHECK_TEXT(store.has_value(), store ? "" : store.error().message.c_str());
  store::IngestBatch batch;
  batch.input = "behind";
  const core::TimeUs base = clock.NowUs() - 3600 * core::kMicrosPerSecond;
  for (int i = 0; i < n; ++i) {
    core::Reading reading;
    reading.device = "late";
    reading.metric = "t";
    reading.ts = base + (first_value + i) * core::kMicrosPerSecond;
    reading.value = first_value + i;
    reading.ts_source = core::TsSource::kDevice;
    batch.frames.emplace_back(std::vector<core::Reading>{reading});
  }
  auto committed = (*store)->Commit(batch);
  CHECK_TEXT(committed.has_value(), committed ? "" : committed.error().message.c_str());
  LONGS_EQUAL(n, committed->accepted);
  // These tests count readings, not buckets: the readings are marked as already aggregated, so
  // that the agent's folds leave them out of the bucket counts the tests compare.
  CHECK_TRUE((*store)
                 ->database()
                 .Exec("UPDATE agg_fold SET through = max(through, (SELECT max(id) FROM readings))")
                 .has_value());
}

}  // namespace

TEST_GROUP(ControlSync){};

TEST(ControlSync, HttpRunSyncUploadsThePendingReadingsAndAnswersTheCounts) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  testing::PgTestSchema schema(*url);
  Gateway gw;
  gw.Configure(&schema, 5000);
  testing::CommandOutput migrated = gw.Run("remote migrate");
  LONGS_EQUAL_TEXT(0, migrated.exit_code, migrated.err.c_str());
  testing::AgentProcess agent(gw.config, gw.dir.File("agent.log"));
  WaitUntilIdle(agent, gw, true);

  testing::WriteFile(gw.dir.File("frames.jsonl"), Frames(300));
  testing::CommandOutput ingested = gw.Run("ingest '" + gw.dir.File("frames.jsonl") + "'");
  LONGS_EQUAL_TEXT(0, ingested.exit_code, (ingested.err + agent.Log()).c_str());
  LONGS_EQUAL(300, testing::LivePending(gw.http_port));

  // A dry run says what would go and sends nothing.
  testing::HttpAnswer dry = gw.PostRun(R"({"command":"sync","dry_run":true})");
  LONGS_EQUAL_TEXT(200, dry.status, dry.body.c_str());
  json preview = ParseJson(dry.body);
  CHECK(preview["dry_run"].get<bool>());
  LONGS_EQUAL(300, preview["pending_readings"].get<long>());
  LONGS_EQUAL(1, preview["batches"].get<long>());
  CHECK_TEXT(preview["pending_buckets"].get<long>() > 0, dry.body.c_str());
  LONGS_EQUAL(0, RemoteCount(schema));
  LONGS_EQUAL(0, RemoteCount(schema, "hourly"));
  LONGS_EQUAL(300, testing::LivePending(gw.http_port));

  testing::HttpAnswer run = gw.PostRun(R"({"command":"sync"})");
  LONGS_EQUAL_TEXT(200, run.status, (run.body + agent.Log()).c_str());
  json report = ParseJson(run.body);
  STRCMP_EQUAL("ok", report["outcome"].get<std::string>().c_str());
  LONGS_EQUAL(300, report["inserted"].get<long>());
  LONGS_EQUAL(0, report["skipped"].get<long>());
  LONGS_EQUAL(0, report["quarantined"].get<long>());
  LONGS_EQUAL(preview["pending_buckets"].get<long>(),
              report["hourly"].get<long>() + report["daily"].get<long>());
  // What the answer counts is at the remote, and gone from the outbox.
  LONGS_EQUAL(300, RemoteCount(schema));
  LONGS_EQUAL(300, RemoteCount(schema, "hourly", "sum(n)"));
  LONGS_EQUAL(report["hourly"].get<long>(), RemoteCount(schema, "hourly"));
  LONGS_EQUAL(0, testing::LivePending(gw.http_port));
  auto status = testing::LiveStatus(gw.http_port);
  CHECK(status.has_value());
  LONGS_EQUAL(300, (*status)["last_sync"]["inserted"].get<long>());

  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(5s), agent.Log().c_str());
}

TEST(ControlSync, SyncThroughTheAgentDrainsTheBacklogAndOnceSendsOneBatch) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  testing::PgTestSchema schema(*url);
  Gateway gw;
  gw.Configure(&schema, 100);
  LONGS_EQUAL(0, gw.Run("remote migrate").exit_code);
  testing::AgentProcess agent(gw.config, gw.dir.File("agent.log"));
  WaitUntilIdle(agent, gw, true);
  CommitBehindTheAgent(gw.dir.File("state"), 250, 0);

  testing::CommandOutput dry = gw.Run("sync --dry-run");
  LONGS_EQUAL_TEXT(0, dry.exit_code, dry.err.c_str());
  STRCMP_EQUAL(("would upload 0 changed aggregate bucket(s), then 250 pending reading(s) in 3 "
                "batch(es) of up to 100 to schema " +
                schema.name() + " as gateway gw-sync\n")
                   .c_str(),
               dry.out.c_str());
  LONGS_EQUAL(0, RemoteCount(schema));

  // Without --once: cycles until nothing is pending (100, 100, 50), summed.
  testing::CommandOutput all = gw.Run("sync");
  LONGS_EQUAL_TEXT(0, all.exit_code, (all.err + agent.Log()).c_str());
  STRCMP_EQUAL("inserted 250, skipped 0, quarantined 0, hourly buckets 0, daily buckets 0\n",
               all.out.c_str());
  LONGS_EQUAL(250, RemoteCount(schema));
  LONGS_EQUAL(0, testing::LivePending(gw.http_port));

  // --once: one cycle, at most one batch, is what the answer counts. After a full batch the
  // loop goes on at once by itself, as it always does, so the rest follows.
  CommitBehindTheAgent(gw.dir.File("state"), 250, 1000);
  testing::CommandOutput once = gw.Run("sync --once");
  LONGS_EQUAL_TEXT(0, once.exit_code, (once.err + agent.Log()).c_str());
  STRCMP_EQUAL("inserted 100, skipped 0, quarantined 0, hourly buckets 0, daily buckets 0\n",
               once.out.c_str());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (RemoteCount(schema) < 500 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  LONGS_EQUAL(500, RemoteCount(schema));

  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(5s), agent.Log().c_str());
}

TEST(ControlSync, AFailedCycleIsAnsweredWithItsReasonAndTheDataStays) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  testing::PgTestSchema schema(*url);
  Gateway gw;
  gw.Configure(&schema, 100);
  LONGS_EQUAL(0, gw.Run("remote migrate").exit_code);
  testing::AgentProcess agent(gw.config, gw.dir.File("agent.log"));
  WaitUntilIdle(agent, gw, true);
  CommitBehindTheAgent(gw.dir.File("state"), 50, 0);

  // The remote loses its readings table: a schema error, which no retry fixes.
  schema.Exec("ALTER TABLE " + schema.name() + ".readings RENAME TO readings_away");
  testing::HttpAnswer failed = gw.PostRun(R"({"command":"sync"})");
  LONGS_EQUAL_TEXT(200, failed.status, failed.body.c_str());
  json report = ParseJson(failed.body);
  STRCMP_EQUAL("error", report["outcome"].get<std::string>().c_str());
  CHECK_TEXT(!report["message"].get<std::string>().empty(), failed.body.c_str());
  LONGS_EQUAL(0, report["inserted"].get<long>());
  testing::CommandOutput command = gw.Run("sync --once");
  LONGS_EQUAL(1, command.exit_code);
  STRCMP_EQUAL("inserted 0, skipped 0, quarantined 0, hourly buckets 0, daily buckets 0\n",
               command.out.c_str());
  CHECK_TEXT(command.err.find("fieldsync: ") == 0, command.err.c_str());
  LONGS_EQUAL(50, testing::LivePending(gw.http_port));

  // Put back and asked again: everything goes, nothing was lost. (The loop retries on its own
  // too, every 2 s at most here; when it got there first, this sync found nothing left.)
  schema.Exec("ALTER TABLE " + schema.name() + ".readings_away RENAME TO readings");
  testing::CommandOutput again = gw.Run("sync");
  LONGS_EQUAL_TEXT(0, again.exit_code, (again.err + agent.Log()).c_str());
  CHECK_TEXT(
      again.out == "inserted 50, skipped 0, quarantined 0, hourly buckets 0, daily buckets 0\n" ||
          again.out == "inserted 0, skipped 0, quarantined 0, hourly buckets 0, daily buckets 0\n",
      again.out.c_str());
  LONGS_EQUAL(0, testing::LivePending(gw.http_port));
  LONGS_EQUAL(50, RemoteCount(schema));

  // An agent that holds the lock but cannot be reached is named, not waited for.
  ::unlink((gw.dir.File("state") + "/control.sock").c_str());
  testing::CommandOutput unreachable = gw.Run("sync --once");
  LONGS_EQUAL(1, unreachable.exit_code);
  CHECK_TEXT(unreachable.err.find("no running agent answers") != std::string::npos,
             unreachable.err.c_str());

  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(5s), agent.Log().c_str());
}

TEST(ControlSync, ThroughTheAgentTheCommandPrintsWhatItPrintsStandalone) {
  auto url = testing::TestPgUrl();
  if (!url) return;
  const std::string frames = Frames(120);

  // Standalone: no agent, the command takes the lock and uploads itself.
  testing::PgTestSchema alone_schema(*url);
  Gateway alone;
  alone.Configure(&alone_schema, 5000);
  LONGS_EQUAL(0, alone.Run("remote migrate").exit_code);
  testing::WriteFile(alone.dir.File("frames.jsonl"), frames);
  LONGS_EQUAL(0, alone.Run("ingest '" + alone.dir.File("frames.jsonl") + "'").exit_code);
  testing::CommandOutput alone_dry = alone.Run("sync --once --dry-run");
  testing::CommandOutput alone_once = alone.Run("sync --once");
  LONGS_EQUAL_TEXT(0, alone_once.exit_code, alone_once.err.c_str());

  // The same readings through a running agent.
  testing::PgTestSchema agent_schema(*url);
  Gateway served;
  served.Configure(&agent_schema, 5000);
  LONGS_EQUAL(0, served.Run("remote migrate").exit_code);
  testing::AgentProcess agent(served.config, served.dir.File("agent.log"));
  WaitUntilIdle(agent, served, true);
  testing::WriteFile(served.dir.File("frames.jsonl"), frames);
  LONGS_EQUAL(0, served.Run("ingest '" + served.dir.File("frames.jsonl") + "'").exit_code);
  testing::CommandOutput served_dry = served.Run("sync --once --dry-run");
  testing::CommandOutput served_once = served.Run("sync --once");
  LONGS_EQUAL_TEXT(0, served_once.exit_code, (served_once.err + agent.Log()).c_str());

  std::string expected_dry = alone_dry.out;
  expected_dry.replace(expected_dry.find(alone_schema.name()), alone_schema.name().size(),
                       agent_schema.name());
  STRCMP_EQUAL(expected_dry.c_str(), served_dry.out.c_str());
  STRCMP_EQUAL(alone_once.out.c_str(), served_once.out.c_str());
  CHECK_TEXT(served_once.out.find("inserted 120,") == 0, served_once.out.c_str());
  LONGS_EQUAL(120, RemoteCount(agent_schema));
  LONGS_EQUAL(RemoteCount(alone_schema, "hourly"), RemoteCount(agent_schema, "hourly"));

  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(5s), agent.Log().c_str());
}

TEST(ControlSync, WithoutARemoteTheAgentSaysWhatIsMissing) {
  Gateway gw;
  gw.Configure(nullptr, 0);
  testing::AgentProcess agent(gw.config, gw.dir.File("agent.log"));
  WaitUntilIdle(agent, gw, false);

  testing::HttpAnswer run = gw.PostRun(R"({"command":"sync"})");
  LONGS_EQUAL_TEXT(400, run.status, run.body.c_str());
  STRCMP_EQUAL("no remote configured: set [sync] url, url_file or FIELDSYNC_PG_URL",
               ParseJson(run.body)["error"].get<std::string>().c_str());
  LONGS_EQUAL(400, gw.PostRun(R"({"command":"sync","dry_run":true})").status);

  // The command finds the same in its configuration before it asks the agent.
  testing::CommandOutput command = gw.Run("sync --once");
  LONGS_EQUAL(2, command.exit_code);
  CHECK_TEXT(command.err.find("no remote configured") != std::string::npos, command.err.c_str());

  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(5s), agent.Log().c_str());
}
