#pragma once
// TcpProxy: a loopback TCP proxy for fault injection between the uploader and PostgreSQL.
// It can freeze (stop forwarding but keep every socket open, so the kernel still acknowledges
// packets: a half-open path) and cut connections right before or right after it forwards a
// client message containing a given text (e.g. "COMMIT"), and hold every answer of the server
// for a while (a slow link: each round trip takes that much longer). Runs one thread; methods
// are thread-safe.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fieldsync::testing {

class TcpProxy {
 public:
  enum class Cut { kNone, kBeforeForwarding, kAfterForwarding };

  // Forwards 127.0.0.1:<port()> to target_host:target_port.
  TcpProxy(std::string target_host, int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void SetFrozen(bool frozen) { frozen_ = frozen; }
  // Each chunk from the server is forwarded this many milliseconds late.
  void SetAnswerDelay(int ms) { answer_delay_ms_ = ms; }
  // The next client chunk containing `needle` closes that connection (both sides), before or
  // after forwarding it; then the rule is spent.
  void CutOn(const std::string& needle, Cut when);
  int cuts() const { return cuts_; }

 private:
  struct Pair {
    int client = -1;
    int server = -1;
  };
  void Loop();
  void ClosePair(Pair& pair);

  std::string host_;
  int target_port_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> frozen_{false};
  std::atomic<int> answer_delay_ms_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> cuts_{0};
  std::mutex mu_;
  std::string needle_;
  Cut cut_ = Cut::kNone;
  std::vector<Pair> pairs_;
  std::thread thread_;
};

}  // namespace fieldsync::testing
