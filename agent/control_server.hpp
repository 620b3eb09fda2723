#pragma once
// ControlServer: the control socket of `fieldsync run` (§3): a Unix stream socket at
// <state_dir>/control.sock on the agent's io_context, speaking control_protocol.hpp.
//
// - The socket file is created owner-only (0600, under umask 0177). A socket file left by a
//   crashed agent is removed at Start; the caller must hold the state lock, which proves that no
//   other agent serves it. Anything at that path that is not a socket is left alone (kIo).
// - At most `max_connections` connections at once; further ones get a `busy` error line and are
//   closed. The request line must arrive within `request_timeout` and is at most
//   kMaxControlRequestBytes long. An ingest stream that sends nothing for `idle_timeout` is
//   answered with a `timeout` error; a response not taken by the client within `idle_timeout` is
//   dropped.
// - One ingest stream at a time (`busy` for a second one); status and run requests are served
//   while a stream is being ingested.
// - A request that cannot be parsed is answered with an error and closes only its connection.
// - Stop (and the destructor) closes the listener and every connection, telling each client
//   that the agent is stopping, and removes the socket file if it is still the one created here.
//
// Thread-safety: construct, call and destroy on the io_context's thread (or before it runs).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "agent/control_commands.hpp"
#include "agent/control_ingest.hpp"
#include "agent/control_protocol.hpp"
#include "core/expected.hpp"

namespace fieldsync::agent {

struct ControlServerOptions {
  std::size_t max_connections = 8;
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds idle_timeout{30000};
};

// What the server answers with; called on the loop thread.
struct ControlHandlers {
  // The live §9 document.
  std::function<core::Expected<nlohmann::json>()> status;
  // A new ingest stream for the request (the server guarantees one at a time).
  std::function<core::Expected<std::unique_ptr<ControlIngest>>(const IngestRequest&)> ingest;
  // `run` requests; must outlive the server. nullptr: every command is unavailable.
  const RunCommandRegistry* commands = nullptr;
};

class ControlServer {
 public:
  // Binds and starts accepting at `path`. kInvalidArgument when the path is too long for a Unix
  // socket, kIo when it cannot be bound.
  static core::Expected<std::unique_ptr<ControlServer>> Start(boost::asio::io_context& io,
                                                              const std::string& path,
                                                              ControlHandlers handlers,
                                                              ControlServerOptions options = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Ingest streams stop reading (shutdown: what they sent so far is committed by the caller's
  // flush); other requests are still answered.
  void PauseIntake();
  // Idempotent.
  void Stop();

  const std::string& path() const { return path_; }

  struct Impl;  // opaque; public only so that the connections in the .cpp can name it

 private:
  ControlServer(std::shared_ptr<Impl> impl, std::string path)
      : impl_(std::move(impl)), path_(std::move(path)) {}
  std::shared_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace fieldsync::agent
