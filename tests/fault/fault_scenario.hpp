#pragma once
// What the fault scenarios share: the `fieldsync run` configuration they start the real binary
// with, the API key for its HTTP input, the agent's resident memory, and the pass line each
// scenario prints once every check of it held.
//
// The pass line is the suite's contract with whoever reads CI logs or the reliability figures:
//   PASS <scenario>: generated=N acknowledged=N stored_local=N landed_remote=N duplicates=N
//        integrity=ok [name=value ...] seconds=S
// on one line, to stdout.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tests/sync/pg_test_schema.hpp"

namespace fieldsync::testing {

// A load generator's thread: runs `body` from construction until Finish() (or destruction),
// `body` checking stopping() between its steps. Declare it as the generator's last member, so
// that it starts after and stops before the members its body uses.
class BackgroundLoop {
 public:
  explicit BackgroundLoop(std::function<void()> body) : thread_(std::move(body)) {}
  ~BackgroundLoop() { Finish(); }
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;
  bool stopping() const { return stop_; }
  void Finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The key the HTTP input of every scenario accepts.
inline constexpr const char* kFaultApiKey = "fault-suite-key";

// One `fieldsync run` configuration. Sync is on when `sync_url` is set.
struct FaultAgentConfig {
  std::string state_dir;
  std::uint16_t http_port = 0;  // 0: no HTTP server
  std::string sync_url;         // a libpq URL or key=value string; "" = local only
  std::string sync_schema;
  int batch_size = 500;
  int interval_s = 1;
  int max_backoff_s = 2;
  int op_timeout_s = 5;
  std::string extra;  // more TOML appended verbatim ([[serial]], [[mqtt]], [store] ...)
};

// Writes the API key file and the config, both in `dir`; returns the config path.
std::string WriteFaultConfig(const TempDir& dir, const FaultAgentConfig& config,
                             const std::string& name = "fieldsync.toml");

// The counts every pass line carries, and scenario-specific ones after them.
struct ScenarioTally {
  long long generated = 0;      // readings the scenario produced
  long long acknowledged = 0;   // readings the agent acknowledged (202, ACK, PUBACK)
  long long stored_local = 0;   // readings the local store held (see each scenario)
  long long landed_remote = 0;  // readings in the remote `readings` table
  long long duplicates = 0;     // readings found more than once where they must be once
  std::string integrity = "ok";
  std::vector<std::pair<std::string, std::string>> extra;
};

// Prints the pass line; `started` is when the scenario began.
void PrintPassLine(const std::string& scenario, const ScenarioTally& tally,
                   std::chrono::steady_clock::time_point started);

// VmRSS of process `pid` in KiB, from /proc/PID/status; -1 when unreadable.
long long VmRssKib(pid_t pid);

// `readings` of input `name` in the live status of the agent on HTTP `port` (readings its commits
// stored in this process's lifetime); -1 when it does not answer or has no such input.
long long LiveInputReadings(std::uint16_t port, const std::string& name);

}  // namespace fieldsync::testing
