#include "tests/sync/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace fieldsync::testing {

TcpProxy::TcpProxy(std::string target_host, int target_port)
    : host_(std::move(target_host)), target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("proxy: cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe(wake_) != 0) throw std::runtime_error("proxy: pipe");
  thread_ = std::thread([this] { Loop(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  (void)!::write(wake_[1], "x", 1);
  thread_.join();
  for (auto& p : pairs_) ClosePair(p);
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void TcpProxy::CutOn(const std::string& needle, Cut when) {
  std::lock_guard<std::mutex> lock(mu_);
  needle_ = needle;
  cut_ = when;
}

void TcpProxy::ClosePair(Pair& pair) {
  if (pair.client >= 0) ::close(pair.client);
  if (pair.server >= 0) ::close(pair.server);
  pair.client = pair.server = -1;
}

void TcpProxy::Loop() {
  char buf[65536];
  while (!stop_) {
    std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const bool frozen = frozen_;
    if (!frozen) {
      for (const auto& p : pairs_) {
        fds.push_back({p.client, POLLIN, 0});
        fds.push_back({p.server, POLLIN, 0});
      }
    }
    if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(target_port_));
      ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
      if (client >= 0 && ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        pairs_.push_back({client, server});
      } else {
        if (client >= 0) ::close(client);
        ::close(server);
      }
      continue;  // the pair list changed: rebuild the poll set
    }
    if (frozen) continue;
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Pair& pair = pairs_[(i - 2) / 2];
      const bool from_client = fds[i].fd == pair.client;
      if (pair.client < 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ClosePair(pair);
        continue;
      }
      Cut cut = Cut::kNone;
      if (from_client) {
        std::lock_guard<std::mutex> lock(mu_);
        if (cut_ != Cut::kNone &&
            std::string_view(buf, static_cast<size_t>(n)).find(needle_) != std::string_view::npos) {
          cut = cut_;
          cut_ = Cut::kNone;
        }
      }
      if (cut == Cut::kBeforeForwarding) {
        ++cuts_;
        ClosePair(pair);
        continue;
      }
      if (!from_client && answer_delay_ms_ > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(answer_delay_ms_.load()));
      }
      const int to = from_client ? pair.server : pair.client;
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t w = ::write(to, buf + sent, static_cast<size_t>(n - sent));
        if (w <= 0) break;
        sent += w;
      }
      if (cut == Cut::kAfterForwarding) {
        ++cuts_;
        // Let the server read it before the client side vanishes.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ClosePair(pair);
      }
    }
    std::erase_if(pairs_, [](const Pair& p) { return p.client < 0; });
  }
}

}  // namespace fieldsync::testing
