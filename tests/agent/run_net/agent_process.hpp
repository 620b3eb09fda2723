#pragma once
// The real `fieldsync run` binary as a child process for the end-to-end tests, with what they
// need around it: the HTTP port it bound (read from its log), its live status, the store read
// back after it exited, and mosquitto_pub for publishing in a separate process.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/reading.hpp"

namespace fieldsync::testing {

class AgentProcess {
 public:
  // Starts `FIELDSYNC_BINARY --config config run` with stderr to `log` and `env` added.
  AgentProcess(const std::string& config, const std::string& log,
               const std::map<std::string, std::string>& env = {});
  ~AgentProcess();  // SIGKILL if still running
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  void Signal(int sig);
  // Exit status (128 + signal when killed), or -1 when it did not exit within `limit`.
  int Wait(std::chrono::milliseconds limit);
  // SIGKILL and reap.
  void Kill();
  std::string Log() const;
  // The child's process id while it runs (for /proc), -1 after it was reaped.
  pid_t pid() const { return pid_; }

  // The port of "http: listening on ... (port N)" in the log; 0 if it did not appear in time
  // or the agent exited.
  std::uint16_t WaitForHttpPort(std::chrono::milliseconds limit);

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// A TCP port on 127.0.0.1 that nothing listens on right now ([http] listen needs a real port).
std::uint16_t FreeLoopbackPort();

// GET /status from the agent; nullopt when it does not answer.
std::optional<nlohmann::json> LiveStatus(std::uint16_t port);
// pending.readings of the live status, -1 when it does not answer.
std::int64_t LivePending(std::uint16_t port);
// Polls LivePending until it reaches `count`; returns the last value seen.
std::int64_t WaitForPending(std::uint16_t port, std::int64_t count,
                            std::chrono::milliseconds limit);
// The `connected` of input `name` in the live status (false when unknown).
bool LiveConnected(std::uint16_t port, const std::string& name);

// Every reading in the store of `state_dir` (all pending: no sync configured). Only while no
// agent runs.
std::vector<core::Reading> StoredReadings(const std::string& state_dir);

// FIELDSYNC_TEST_MQTT_URL, or "" (the caller prints SKIPPED).
std::string BrokerUrl();
// A client id / topic prefix no other run shares on the same broker.
std::string UniqueName(const std::string& what);

// mosquitto_pub -l: one QoS 1 message per line written, to one topic.
class LinePublisher {
 public:
  LinePublisher(const std::string& url, const std::string& topic);
  ~LinePublisher();  // Close()
  void Write(const std::string& line);
  // Ends the input and waits for mosquitto_pub; true when it exited 0.
  bool Close();

 private:
  FILE* pipe_ = nullptr;
};

// Publishes every line of `lines` (newline-separated) and waits; true on success.
bool PublishLines(const std::string& url, const std::string& topic, const std::string& lines);

// Runs a command with system(); true when it exited 0.
bool RunCommand(const std::string& command);

}  // namespace fieldsync::testing
