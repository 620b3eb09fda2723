#pragma once
// The command side of the control socket: `fieldsync ingest` and `status` (and any command that
// finds the state lock held by `run`) hand their work to the running agent through
// <state_dir>/control.sock (control_protocol.hpp). Blocking POSIX I/O with deadlines: the
// commands are plain sequential programs, no event loop.
//
// Errors: kUnavailable when no agent answers on the socket (file absent, connection refused,
// the agent closed the connection without an answer), kTimeout when it does not answer in time,
// kIo for other system errors; an error the agent answered with keeps the agent's code and
// message. SIGPIPE is never raised (MSG_NOSIGNAL).
//
// Thread-safety: a ControlClient is used by one thread at a time.

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "agent/control_protocol.hpp"
#include "core/expected.hpp"

namespace fieldsync::agent {

// <state_dir>/control.sock
std::string ControlSocketPath(const std::string& state_dir);

class ControlClient {
 public:
  static core::Expected<ControlClient> Connect(const std::string& path);
  ~ControlClient();
  ControlClient(ControlClient&& other) noexcept;
  ControlClient& operator=(ControlClient&& other) noexcept;
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Writes all of `bytes`, waiting at most `timeout` for the agent to take each part.
  core::Status Send(std::string_view bytes, std::chrono::milliseconds timeout);
  // Ends what this side sends (the agent reads EOF: the end of an ingest stream).
  core::Status FinishSending();
  // Reads the one response line and decodes it (ParseControlResponse).
  core::Expected<nlohmann::json> ReadResponse(std::chrono::milliseconds timeout);

 private:
  explicit ControlClient(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Sends a status or run request and returns the agent's result.
core::Expected<nlohmann::json> CallAgent(const std::string& socket_path,
                                         const ControlRequest& request,
                                         std::chrono::milliseconds timeout);

// Streams everything readable from `fd` (a file or stdin) to the agent as an ingest request and
// returns its result (IngestTallyToJson plus "failed") once the agent has committed it.
core::Expected<nlohmann::json> IngestThroughAgent(const std::string& socket_path,
                                                  const IngestRequest& request, int fd);

}  // namespace fieldsync::agent
