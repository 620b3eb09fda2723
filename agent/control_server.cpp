#include "agent/control_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>
#include <variant>

namespace fieldsync::agent {
namespace {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

constexpr int kListenBacklog = 16;

core::Error IoError(const std::string& what, const std::string& detail) {
  return core::MakeError(core::Errc::kIo, what + ": " + detail);
}

// The listener only exists while the state lock is held, so a socket file found here was left
// by an agent that died without removing it. Anything else is not ours to delete.
core::Status RemoveStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return core::Ok();
    return IoError("control socket " + path, std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return IoError("control socket " + path, "exists and is not a socket; not removing it");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return IoError("remove stale control socket " + path, std::strerror(errno));
  }
  spdlog::info("removed the control socket {} left by an earlier run", path);
  return core::Ok();
}

class Connection;

}  // namespace

struct ControlServer::Impl {
  Impl(asio::io_context& context, std::string socket_path, ControlHandlers control_handlers,
       ControlServerOptions server_options)
      : io(context),
        acceptor(context),
        path(std::move(socket_path)),
        handlers(std::move(control_handlers)),
        options(server_options) {}

  void Accept(const std::shared_ptr<Impl>& self);
  void Remove(Connection* connection);
  void Stop();

  asio::io_context& io;
  Local::acceptor acceptor;
  std::string path;
  ControlHandlers handlers;
  ControlServerOptions options;
  dev_t device = 0;  // identity of the socket file bound here, so Stop removes only that one
  ino_t inode = 0;
  std::set<std::shared_ptr<Connection>> connections;
  bool ingest_running = false;
  bool paused = false;
  bool stopped = false;
};

namespace {

// One client: a request line, then (ingest) frame bytes until EOF, then one response line.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Local::socket socket, ControlServer::Impl& server)
      : socket_(std::move(socket)), timer_(server.io), server_(server) {}

  void Start() {
    ArmTimer(server_.options.request_timeout);
    Read();
  }

  void Pause() { paused_ = true; }

  // Closes now; `last_words` is a response line sent on a best-effort basis first (never
  // blocking) when no response is under way.
  void Close(const std::string& last_words = "") {
    if (state_ == State::kClosed) return;
    if (!last_words.empty() && state_ != State::kResponding) {
      boost::system::error_code ec;
      socket_.non_blocking(true, ec);
      if (!ec) socket_.write_some(asio::buffer(last_words), ec);
    }
    state_ = State::kClosed;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.shutdown(Local::socket::shutdown_both, ignored);
    socket_.close(ignored);
    ReleaseIngest();
    server_.Remove(this);
  }

 private:
  enum class State : unsigned char { kRequest, kIngest, kWaiting, kResponding, kClosed };

  void Read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const boost::system::error_code& ec, std::size_t n) {
    if (state_ == State::kClosed || state_ == State::kResponding) return;
    if (ec) {
      if (ec == asio::error::eof && state_ == State::kIngest) {
        EndIngest();
      } else {
        Close();  // the client went away: nobody to answer
      }
      return;
    }
    std::string_view bytes(buffer_.data(), n);
    if (state_ == State::kIngest) {
      ingest_->Feed(bytes);
      ContinueIngest();
      return;
    }
    if (state_ != State::kRequest) return;
    if (!lines_.Append(bytes)) {
      Respond(EncodeErrorResponse(core::MakeError(
          core::Errc::kInvalidArgument,
          "request line longer than " + std::to_string(kMaxControlRequestBytes) + " bytes")));
      return;
    }
    std::string line;
    if (!lines_.TakeLine(line)) {
      Read();
      return;
    }
    OnRequest(line);
  }

  void OnRequest(const std::string& line) {
    timer_.cancel();
    auto request = ParseControlRequest(line);
    if (!request) {
      Respond(EncodeErrorResponse(request.error()));
      return;
    }
    if (std::holds_alternative<StatusRequest>(*request)) {
      auto document = server_.handlers.status
                          ? server_.handlers.status()
                          : core::Expected<nlohmann::json>(core::MakeError(
                                core::Errc::kUnsupported, "status is not available"));
      Respond(document ? EncodeOkResponse(*document) : EncodeErrorResponse(document.error()));
    } else if (const auto* run = std::get_if<RunRequestLine>(&*request)) {
      state_ = State::kWaiting;
      auto done = [self = shared_from_this()](core::Expected<nlohmann::json> result) {
        self->Respond(result ? EncodeOkResponse(*result) : EncodeErrorResponse(result.error()));
      };
      if (server_.handlers.commands == nullptr) {
        RunCommandRegistry none;
        none.Dispatch(run->command, run->args, done);
      } else {
        server_.handlers.commands->Dispatch(run->command, run->args, done);
      }
    } else {
      StartIngest(std::get<IngestRequest>(*request));
    }
  }

  void StartIngest(const IngestRequest& request) {
    if (server_.paused || server_.stopped) {
      Respond(
          EncodeErrorResponse(core::MakeError(core::Errc::kUnavailable, "the agent is stopping")));
      return;
    }
    if (server_.ingest_running) {
      Respond(EncodeErrorResponse(core::MakeError(
          core::Errc::kBusy, "another ingest is running in the agent; try again when it ends")));
      return;
    }
    auto ingest = server_.handlers.ingest
                      ? server_.handlers.ingest(request)
                      : core::Expected<std::unique_ptr<ControlIngest>>(
                            core::MakeError(core::Errc::kUnsupported, "ingest is not available"));
    if (!ingest) {
      Respond(EncodeErrorResponse(ingest.error()));
      return;
    }
    ingest_ = std::move(*ingest);
    server_.ingest_running = true;
    state_ = State::kIngest;
    std::string rest = lines_.TakeRest();
    if (!rest.empty()) ingest_->Feed(rest);
    ContinueIngest();
  }

  // Reads more frame bytes unless the agent is stopping or too many frames wait for a commit;
  // in the latter case reading resumes when the commits catch up (the client's writes block
  // meanwhile, which bounds memory).
  void ContinueIngest() {
    if (state_ != State::kIngest || paused_) return;
    if (!ingest_->HasRoom()) {
      timer_.cancel();
      std::weak_ptr<Connection> weak = weak_from_this();
      ingest_->OnRoom([weak] {
        if (auto self = weak.lock()) self->ContinueIngest();
      });
      return;
    }
    ArmTimer(server_.options.idle_timeout);
    Read();
  }

  void EndIngest() {
    timer_.cancel();
    state_ = State::kWaiting;
    std::weak_ptr<Connection> weak = weak_from_this();
    ingest_->Finish([weak](nlohmann::json result) {
      auto self = weak.lock();
      if (!self) return;
      self->ReleaseIngest();
      self->Respond(EncodeOkResponse(result));
    });
  }

  void ReleaseIngest() {
    if (!ingest_) return;
    server_.ingest_running = false;
    ingest_->Detach();
    // Destroyed from the loop, not from inside one of its own callbacks.
    std::shared_ptr<ControlIngest> finished(std::move(ingest_));
    asio::post(server_.io, [finished] {});
  }

  void Respond(std::string line) {
    if (state_ == State::kClosed || state_ == State::kResponding) return;
    state_ = State::kResponding;
    response_ = std::move(line);
    ArmTimer(server_.options.idle_timeout);
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](const boost::system::error_code&, std::size_t) {
                        self->state_ = State::kWaiting;  // the answer is out: close quietly
                        self->Close();
                      });
  }

  void ArmTimer(std::chrono::milliseconds after) {
    timer_.expires_after(after);
    std::weak_ptr<Connection> weak = weak_from_this();
    timer_.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!ec && self) self->OnTimeout();
    });
  }

  void OnTimeout() {
    switch (state_) {
      case State::kRequest:
        Respond(EncodeErrorResponse(
            core::MakeError(core::Errc::kTimeout, "no complete request line in time")));
        break;
      case State::kIngest:
        spdlog::warn("control socket: an ingest stream sent nothing for {} ms; dropped",
                     server_.options.idle_timeout.count());
        Respond(EncodeErrorResponse(core::MakeError(
            core::Errc::kTimeout, "no frame data in time; frames received so far are stored")));
        break;
      case State::kResponding:
        Close();  // the client does not read its answer
        break;
      case State::kWaiting:
      case State::kClosed:
        break;
    }
  }

  Local::socket socket_;
  asio::steady_timer timer_;
  ControlServer::Impl& server_;  // outlives every connection: Stop closes them all first
  std::array<char, 16 * 1024> buffer_{};
  ControlLineBuffer lines_{kMaxControlRequestBytes};
  State state_ = State::kRequest;
  bool paused_ = false;
  std::unique_ptr<ControlIngest> ingest_;
  std::string response_;
};

}  // namespace

void ControlServer::Impl::Accept(const std::shared_ptr<Impl>& self) {
  std::weak_ptr<Impl> weak = self;
  acceptor.async_accept([weak](const boost::system::error_code& ec, Local::socket socket) {
    auto impl = weak.lock();
    if (!impl || impl->stopped) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      spdlog::warn("control socket: accept failed: {}", ec.message());
    } else if (impl->connections.size() >= impl->options.max_connections) {
      // Small enough for an empty socket buffer: this write does not block.
      std::string busy = EncodeErrorResponse(
          core::MakeError(core::Errc::kBusy, "too many control connections; try again"));
      boost::system::error_code ignored;
      asio::write(socket, asio::buffer(busy), ignored);
      socket.close(ignored);
    } else {
      auto connection = std::make_shared<Connection>(std::move(socket), *impl);
      impl->connections.insert(connection);
      connection->Start();
    }
    impl->Accept(impl);
  });
}

void ControlServer::Impl::Remove(Connection* connection) {
  for (auto it = connections.begin(); it != connections.end(); ++it) {
    if (it->get() == connection) {
      connections.erase(it);
      return;
    }
  }
}

void ControlServer::Impl::Stop() {
  if (stopped) return;
  stopped = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  auto open = connections;  // Close removes from the set
  const std::string stopping = EncodeErrorResponse(
      core::MakeError(core::Errc::kUnavailable,
                      "the agent stopped before answering; what it stored so far is kept"));
  for (const auto& connection : open) connection->Close(stopping);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && st.st_dev == device && st.st_ino == inode) {
    ::unlink(path.c_str());
  }
}

core::Expected<std::unique_ptr<ControlServer>> ControlServer::Start(asio::io_context& io,
                                                                    const std::string& path,
                                                                    ControlHandlers handlers,
                                                                    ControlServerOptions options) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return core::MakeError(core::Errc::kInvalidArgument,
                           "control socket path too long for a Unix socket (" +
                               std::to_string(path.size()) + " bytes): " + path);
  }
  if (auto removed = RemoveStaleSocket(path); !removed) return removed.error();
  auto impl = std::make_shared<Impl>(io, path, std::move(handlers), options);
  boost::system::error_code ec;
  impl->acceptor.open(Local(), ec);
  if (!ec) {
    // Owner-only from the first instant: no window in which another user could connect.
    mode_t previous = ::umask(0177);
    impl->acceptor.bind(Local::endpoint(path), ec);
    ::umask(previous);
  }
  if (!ec) impl->acceptor.listen(kListenBacklog, ec);
  if (ec) return IoError("cannot listen on control socket " + path, ec.message());
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return IoError("control socket " + path, std::strerror(errno));
  impl->device = st.st_dev;
  impl->inode = st.st_ino;
  impl->Accept(impl);
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl), path));
}

ControlServer::~ControlServer() { Stop(); }

void ControlServer::PauseIntake() {
  impl_->paused = true;
  for (const auto& connection : impl_->connections) connection->Pause();
}

void ControlServer::Stop() { impl_->Stop(); }

}  // namespace fieldsync::agent
