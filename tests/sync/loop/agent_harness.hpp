#pragma once
// The real `fieldsync` binary (FIELDSYNC_BINARY) against the harness PostgreSQL: a config per
// test with its own remote schema, frames generated with explicit timestamps, `run` started,
// signalled and killed like systemd would, and the remote read back as a set.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/sync/pg_test_schema.hpp"

namespace fieldsync::testing {

// One reading as both sides can print it: "device|metric|epoch_ms|value".
inline std::string ReadingKey(const std::string& device, const std::string& metric, long long ts_ms,
                              long long value) {
  return device + "|" + metric + "|" + std::to_string(ts_ms) + "|" + std::to_string(value);
}

// A json frame with an explicit millisecond timestamp; the value is an integer (exact as double).
inline std::string JsonFrame(const std::string& device, long long ts_ms, long long value,
                             const std::string& metric = "t") {
  return "{\"device\":\"" + device + "\",\"ts\":" + std::to_string(ts_ms) + ",\"" + metric +
         "\":" + std::to_string(value) + "}";
}

inline long long NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string AgentConfig(const TempDir& dir, const PgTestSchema& schema, int batch_size,
                               int interval_s, const std::string& extra = "") {
  return "gateway = \"gw-test\"\nstate_dir = \"" + dir.File("state") +
         "\"\n[http]\nlisten = \"\"\n[clock]\ntrust_unsynced = true\n[sync]\nurl = \"" +
         schema.url() + "\"\nschema = \"" + schema.name() +
         "\"\nbatch_size = " + std::to_string(batch_size) +
         "\ninterval_s = " + std::to_string(interval_s) +
         "\nmax_backoff_s = 2\nop_timeout_s = 5\n" + extra;
}

// Runs `fieldsync --config CONFIG ARGS`, output to LOG; returns the exit status.
inline int RunFieldsync(const std::string& config, const std::string& args,
                        const std::string& log) {
  std::string command =
      "'" FIELDSYNC_BINARY "' --config '" + config + "' " + args + " >'" + log + "' 2>&1";
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// `fieldsync run` in a child process; killed with SIGKILL when destroyed while running.
class RunningAgent {
 public:
  RunningAgent(const std::string& config, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* err = std::freopen(log.c_str(), "a", stderr);
      (void)err;
      ::execl(FIELDSYNC_BINARY, FIELDSYNC_BINARY, "--config", config.c_str(), "run",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~RunningAgent() { Kill(); }
  RunningAgent(const RunningAgent&) = delete;
  RunningAgent& operator=(const RunningAgent&) = delete;

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void Signal(int sig) { ::kill(pid_, sig); }
  // Exit status, or -1 when it did not exit within `limit`.
  int Wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

// Every remote reading of the schema, as ReadingKey strings.
inline std::multiset<std::string> RemoteReadings(const PgTestSchema& schema) {
  auto result = schema.Exec(
      "SELECT device || '|' || metric || '|' || (extract(epoch from ts) * 1000)::bigint || '|' || "
      "value::bigint FROM " +
      schema.name() + ".readings");
  std::multiset<std::string> keys;
  for (int row = 0; row < result.rows(); ++row) keys.emplace(result.Value(row, 0));
  return keys;
}

inline long long RemoteCount(const PgTestSchema& schema, const std::string& table = "readings",
                             const std::string& expr = "count(*)") {
  auto result = schema.Exec("SELECT coalesce(" + expr + ", 0) FROM " + schema.name() + "." + table);
  return std::stoll(std::string(result.Value(0, 0)));
}

inline long long LocalPending(const std::string& state_dir) {
  core::SystemClock clock;
  auto store = store::Store::Open(state_dir, store::StoreOptions{}, clock);
  if (!store) return -1;
  auto stats = (*store)->Stats();
  return stats ? stats->pending_readings : -1;
}

inline std::string IntegrityCheck(const std::string& state_dir) {
  auto db = store::Database::Open(state_dir + "/fieldsync.db");
  if (!db) return "cannot open: " + db.error().message;
  auto result = (*db)->QueryText("PRAGMA integrity_check");
  if (!result) return "integrity_check failed: " + result.error().message;
  return result->value_or("(no answer)");
}

// Waits until `done` holds, polling; false on timeout.
template <class Pred>
bool WaitFor(Pred done, std::chrono::milliseconds limit,
             std::chrono::milliseconds poll = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(poll);
  }
  return done();
}

}  // namespace fieldsync::testing
