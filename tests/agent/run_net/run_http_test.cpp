// `fieldsync run` with [http], end to end: the real binary on a free loopback port, requests from
// a real client, the store read back after the agent exited.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/agent/http/http_client.hpp"
#include "tests/agent/run_net/agent_process.hpp"
#include "tests/support/temp_dir.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

constexpr const char* kKey = "s3cret-key-for-tests";
constexpr long long kBaseMs = 1735689600000LL;  // 2025-01-01T00:00:00Z

std::string Frame(long long i) {
  return "{\"device\":\"uno\",\"ts\":" + std::to_string(kBaseMs + i) +
         ",\"v\":" + std::to_string(i) + "}";
}

std::string WriteConfig(const testing::TempDir& dir, bool with_key, const std::string& key = kKey,
                        std::uint16_t port = testing::FreeLoopbackPort()) {
  std::string http = "[http]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n";
  if (with_key) {
    testing::WriteFile(dir.File("api.key"), key + "\n");
    ::chmod(dir.File("api.key").c_str(), 0600);
    http += "api_key_file = \"" + dir.File("api.key") + "\"\n";
  }
  const std::string path = dir.File("fieldsync.toml");
  testing::WriteFile(path,
                     "gateway = \"test-gw\"\nstate_dir = \"" + dir.File("state") + "\"\n" + http);
  return path;
}

std::set<long long> StoredValues(const std::string& state_dir) {
  std::set<long long> values;
  for (const auto& r : testing::StoredReadings(state_dir))
    values.insert(static_cast<long long>(r.value));
  return values;
}

}  // namespace

TEST_GROUP(RunHttp) { testing::TempDir dir; };

TEST(RunHttp, IngestStatusMetricsAndRunAnswerFromTheRunningAgent) {
  testing::AgentProcess agent(WriteConfig(dir, true), dir.File("agent.log"));
  const std::uint16_t port = agent.WaitForHttpPort(10s);
  CHECK_TEXT(port != 0, agent.Log().c_str());
  testing::HttpClient client(port);

  auto stored = client.Send("POST", "/api/data", "[" + Frame(1) + "," + Frame(2) + "]", kKey);
  LONGS_EQUAL_TEXT(202, stored.status, stored.body.c_str());
  auto counts = nlohmann::json::parse(stored.body);
  LONGS_EQUAL(2, counts["accepted"].get<int>());
  auto again = client.Send("POST", "/api/data", Frame(1), kKey);
  LONGS_EQUAL(202, again.status);
  LONGS_EQUAL(1, nlohmann::json::parse(again.body)["duplicates"].get<int>());

  LONGS_EQUAL(401, client.Send("POST", "/api/data", Frame(3), std::string("wrong")).status);
  LONGS_EQUAL(401, client.Send("POST", "/api/data", Frame(4)).status);
  LONGS_EQUAL(400, client.Send("POST", "/api/data", "not json", kKey).status);

  auto status = client.Send("GET", "/status");
  LONGS_EQUAL(200, status.status);
  auto doc = nlohmann::json::parse(status.body);
  STRCMP_EQUAL("test-gw", doc["gateway"].get<std::string>().c_str());
  CHECK(doc["uptime_s"].is_number());  // a running agent answers, not the store alone
  LONGS_EQUAL(2, doc["pending"]["readings"].get<int>());
  bool http_listed = false;
  for (const auto& input : doc["inputs"]) {
    if (input["name"] == "http") {
      http_listed = true;
      CHECK(input["connected"] == true);
      LONGS_EQUAL(2, input["readings"].get<int>());
    }
  }
  CHECK_TEXT(http_listed, status.body.c_str());

  auto metrics = client.Send("GET", "/metrics");
  LONGS_EQUAL(200, metrics.status);
  for (const char* name :
       {"fieldsync_readings_ingested_total{input=\"http\"} 2", "fieldsync_frames_rejected_total",
        "fieldsync_duplicates_total{input=\"http\"} 1", "fieldsync_pending_readings 2",
        "fieldsync_oldest_pending_age_seconds", "fieldsync_uploaded_readings_total",
        "fieldsync_upload_skipped_total", "fieldsync_sync_errors_total",
        "fieldsync_dropped_readings_total", "fieldsync_late_readings_total",
        "fieldsync_quarantined_readings", "fieldsync_store_bytes",
        "fieldsync_input_connected{input=\"http\"} 1", "fieldsync_clock_synced"}) {
    CHECK_TEXT(metrics.body.find(name) != std::string::npos,
               (name + ("\n" + metrics.body)).c_str());
  }

  // No [sync] url: the agent cannot sync, and says what is missing.
  auto run = client.Send("POST", "/api/run", R"({"command":"sync"})", kKey);
  LONGS_EQUAL_TEXT(400, run.status, run.body.c_str());
  CHECK_TEXT(run.body.find("no remote configured") != std::string::npos, run.body.c_str());
  LONGS_EQUAL(401, client.Send("POST", "/api/run", R"({"command":"sync"})").status);

  agent.Signal(SIGTERM);
  LONGS_EQUAL_TEXT(0, agent.Wait(5s), agent.Log().c_str());
  auto values = StoredValues(dir.File("state"));
  CHECK(values == (std::set<long long>{1, 2}));
}

TEST(RunHttp, WithoutAKeyPostEndpointsAnswer403) {
  testing::AgentProcess agent(WriteConfig(dir, false), dir.File("agent.log"));
  const std::uint16_t port = agent.WaitForHttpPort(10s);
  CHECK_TEXT(port != 0, agent.Log().c_str());
  testing::HttpClient client(port);
  LONGS_EQUAL(403, client.Send("POST", "/api/data", Frame(1), kKey).status);
  LONGS_EQUAL(403, client.Send("POST", "/api/run", R"({"command":"sync"})", kKey).status);
  LONGS_EQUAL(200, client.Send("GET", "/status").status);
  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(5s));
  CHECK(StoredValues(dir.File("state")).empty());
}

TEST(RunHttp, SigtermDuringABusyStreamKeepsEveryAcknowledgedReading) {
  testing::AgentProcess agent(WriteConfig(dir, true), dir.File("agent.log"));
  const std::uint16_t port = agent.WaitForHttpPort(10s);
  CHECK_TEXT(port != 0, agent.Log().c_str());

  std::mutex mu;
  std::set<long long> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&, c] {
      testing::HttpClient client(port);
      // Client c sends values c, c+3, c+6, ... two frames per request.
      for (long long i = c; !stop; i += 6) {
        auto answer =
            client.Send("POST", "/api/data", "[" + Frame(i) + "," + Frame(i + 3) + "]", kKey);
        if (answer.status == 0) break;  // the agent is gone
        if (answer.status == 202) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.insert(i);
          acknowledged.insert(i + 3);
        }
      }
    });
  }
  std::this_thread::sleep_for(700ms);
  const auto termed_at = std::chrono::steady_clock::now();
  agent.Signal(SIGTERM);
  const int status = agent.Wait(5s);
  stop = true;
  for (auto& t : clients) t.join();
  LONGS_EQUAL_TEXT(0, status, agent.Log().c_str());
  CHECK(std::chrono::steady_clock::now() - termed_at < 5s);
  CHECK_TEXT(acknowledged.size() > 50, std::to_string(acknowledged.size()).c_str());

  auto stored = StoredValues(dir.File("state"));
  for (long long v : acknowledged) {
    CHECK_TEXT(stored.count(v) == 1,
               ("acknowledged value " + std::to_string(v) + " is missing").c_str());
  }
  std::printf("\n%zu readings acknowledged with 202 before SIGTERM, %zu stored\n",
              acknowledged.size(), stored.size());
}

TEST(RunHttp, SighupMovesTheServerToANewAddressAndAppliesANewKey) {
  const std::string config = WriteConfig(dir, true);
  testing::AgentProcess agent(config, dir.File("agent.log"));
  const std::uint16_t old_port = agent.WaitForHttpPort(10s);
  CHECK_TEXT(old_port != 0, agent.Log().c_str());
  LONGS_EQUAL(202, testing::HttpClient(old_port).Send("POST", "/api/data", Frame(1), kKey).status);

  const std::uint16_t new_port = testing::FreeLoopbackPort();
  WriteConfig(dir, true, "a-new-key", new_port);
  agent.Signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  unsigned status = 0;
  while (status != 202 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    status = testing::HttpClient(new_port).Send("POST", "/api/data", Frame(2), "a-new-key").status;
  }
  LONGS_EQUAL_TEXT(202, status, agent.Log().c_str());
  LONGS_EQUAL(401, testing::HttpClient(new_port).Send("POST", "/api/data", Frame(3), kKey).status);
  LONGS_EQUAL(0, testing::HttpClient(old_port).Send("GET", "/status").status);  // closed

  // Only the key changes: same socket, the new key at once.
  WriteConfig(dir, true, "third-key", new_port);
  testing::HttpClient client(new_port);
  LONGS_EQUAL(200, client.Send("GET", "/status").status);
  agent.Signal(SIGHUP);
  status = 0;
  const auto deadline2 = std::chrono::steady_clock::now() + 5s;
  while (status != 202 && std::chrono::steady_clock::now() < deadline2) {
    std::this_thread::sleep_for(50ms);
    status = client.Send("POST", "/api/data", Frame(4), "third-key").status;
  }
  LONGS_EQUAL_TEXT(202, status, agent.Log().c_str());
  // One move (the first reload); the key-only reload kept the socket.
  const std::string log = agent.Log();
  const auto first_move = log.find("http: moving from");
  CHECK_TEXT(first_move != std::string::npos, log.c_str());
  CHECK_TEXT(log.find("http: moving from", first_move + 1) == std::string::npos, log.c_str());

  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(5s));
  CHECK(StoredValues(dir.File("state")) == (std::set<long long>{1, 2, 4}));
}
