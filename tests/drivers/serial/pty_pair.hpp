#pragma once
// PtyPair: a pseudo-terminal standing in for an Arduino on a USB port. The input opens `link`
// (a symlink to the slave side, like /dev/serial/by-id/...); the test writes frames and reads
// ACKs on the master side. Unplug() closes both ends and removes the link, as a USB unplug does.

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace fieldsync::testing {

class PtyPair {
 public:
  explicit PtyPair(std::string link) : link_(std::move(link)) { Plug(); }
  ~PtyPair() { Unplug(); }
  PtyPair(const PtyPair&) = delete;
  PtyPair& operator=(const PtyPair&) = delete;

  void Plug() {
    char name[128] = {};
    if (::openpty(&master_, &slave_, name, nullptr, nullptr) != 0) {
      throw std::runtime_error("openpty failed");
    }
    ::fcntl(master_, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave_, F_SETFD, FD_CLOEXEC);
    termios tio{};
    ::tcgetattr(slave_, &tio);
    ::cfmakeraw(&tio);
    ::tcsetattr(slave_, TCSANOW, &tio);
    ::unlink(link_.c_str());
    if (::symlink(name, link_.c_str()) != 0) throw std::runtime_error("symlink failed");
  }

  void Unplug() {
    ::unlink(link_.c_str());
    if (slave_ >= 0) ::close(slave_);
    if (master_ >= 0) ::close(master_);
    slave_ = master_ = -1;
  }

  void Write(const std::string& bytes) {
    if (::write(master_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
      throw std::runtime_error("short write to pty");
    }
  }

  // What the input wrote back, collected for up to `wait` until `want` bytes are there.
  std::string Read(std::chrono::milliseconds wait, std::size_t want = 1) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + wait;
    do {
      pollfd p{master_, POLLIN, 0};
      if (::poll(&p, 1, wait.count() > 0 ? 10 : 0) <= 0) continue;
      char buf[256];
      ssize_t n = ::read(master_, buf, sizeof buf);
      if (n > 0) out.append(buf, static_cast<std::size_t>(n));
    } while (out.size() < want && std::chrono::steady_clock::now() < deadline);
    return out;
  }

  // What the input wrote back so far, without waiting.
  std::string ReadNow() { return Read(std::chrono::milliseconds(0), 1); }

  const std::string& link() const { return link_; }

 private:
  std::string link_;
  int master_ = -1;
  int slave_ = -1;
};

}  // namespace fieldsync::testing
