#include "agent/control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace fieldsync::agent {
namespace {

// Waiting for the agent to take frame bytes: it stops reading while its commits catch up,
// which takes milliseconds unless the store is failing (then it retries for a few seconds).
constexpr std::chrono::milliseconds kSendTimeout{60000};
// From the end of an ingest stream to its answer: the last grouped commit, with retries.
constexpr std::chrono::milliseconds kIngestAnswerTimeout{60000};

core::Error SystemError(core::Errc code, const std::string& what) {
  return core::MakeError(code, what + ": " + std::strerror(errno));
}

// Waits until `fd` is ready for `events`; kTimeout after `timeout`.
core::Status WaitFor(int fd, short events, std::chrono::milliseconds timeout,
                     const std::string& what) {
  pollfd p{fd, events, 0};
  while (true) {
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n > 0) return core::Ok();
    if (n == 0) {
      return core::MakeError(
          core::Errc::kTimeout,
          "the agent did not " + what + " within " + std::to_string(timeout.count() / 1000) + " s");
    }
    if (errno != EINTR) return SystemError(core::Errc::kIo, "poll");
  }
}

}  // namespace

std::string ControlSocketPath(const std::string& state_dir) {
  return state_dir + "/" + kControlSocketName;
}

core::Expected<ControlClient> ControlClient::Connect(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return core::MakeError(core::Errc::kInvalidArgument, "control socket path too long: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return SystemError(core::Errc::kIo, "socket");
  ControlClient client(fd, path);
  // NOLINTNEXTLINE: sockaddr_un is passed as sockaddr, as the socket API wants.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      return core::MakeError(core::Errc::kUnavailable,
                             "no agent answers on " + path + " (" + std::strerror(err) + ")");
    }
    return core::MakeError(core::Errc::kIo, "connect " + path + ": " + std::strerror(err));
  }
  return client;
}

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

ControlClient::ControlClient(ControlClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

ControlClient& ControlClient::operator=(ControlClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

core::Status ControlClient::Send(std::string_view bytes, std::chrono::milliseconds timeout) {
  while (!bytes.empty()) {
    if (auto ready = WaitFor(fd_, POLLOUT, timeout, "take the data"); !ready) return ready;
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == EPIPE || errno == ECONNRESET) {
        return core::MakeError(core::Errc::kUnavailable, "the agent closed the connection");
      }
      return SystemError(core::Errc::kIo, "send to " + path_);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return core::Ok();
}

core::Status ControlClient::FinishSending() {
  if (::shutdown(fd_, SHUT_WR) != 0 && errno != ENOTCONN) {
    return SystemError(core::Errc::kIo, "shutdown " + path_);
  }
  return core::Ok();
}

core::Expected<nlohmann::json> ControlClient::ReadResponse(std::chrono::milliseconds timeout) {
  ControlLineBuffer lines(16 * 1024 * 1024);  // a status document with many inputs is large
  std::vector<char> buffer(64 * 1024);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string line;
  while (!lines.TakeLine(line)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    if (auto ready = WaitFor(fd_, POLLIN, left, "answer"); !ready) return ready.error();
    ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) {
        return core::MakeError(core::Errc::kUnavailable,
                               "the agent closed the connection without answering");
      }
      return SystemError(core::Errc::kIo, "recv from " + path_);
    }
    if (n == 0) {
      return core::MakeError(core::Errc::kUnavailable,
                             "the agent closed the connection without answering");
    }
    if (!lines.Append(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
      return core::MakeError(core::Errc::kParse, "the agent's answer is too long");
    }
  }
  return ParseControlResponse(line);
}

core::Expected<nlohmann::json> CallAgent(const std::string& socket_path,
                                         const ControlRequest& request,
                                         std::chrono::milliseconds timeout) {
  auto client = ControlClient::Connect(socket_path);
  if (!client) return client.error();
  if (auto sent = client->Send(EncodeControlRequest(request), timeout); !sent) {
    return sent.error();
  }
  return client->ReadResponse(timeout);
}

core::Expected<nlohmann::json> IngestThroughAgent(const std::string& socket_path,
                                                  const IngestRequest& request, int fd) {
  auto client = ControlClient::Connect(socket_path);
  if (!client) return client.error();
  core::Status sent = client->Send(EncodeControlRequest(ControlRequest{request}), kSendTimeout);
  std::vector<char> buffer(64 * 1024);
  while (sent) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // Without the end of the stream the agent would answer for a partial file: hang up.
      return SystemError(core::Errc::kIo, "read the frames");
    }
    if (n == 0) break;
    sent = client->Send(std::string_view(buffer.data(), static_cast<std::size_t>(n)), kSendTimeout);
  }
  if (sent) sent = client->FinishSending();
  // The agent may have answered early (a refusal); its answer says more than a failed send.
  auto answer = client->ReadResponse(sent ? kIngestAnswerTimeout : std::chrono::milliseconds(1000));
  bool no_answer = !answer && (answer.error().code == core::Errc::kUnavailable ||
                               answer.error().code == core::Errc::kTimeout);
  if (!sent && no_answer) return sent.error();
  return answer;
}

}  // namespace fieldsync::agent
