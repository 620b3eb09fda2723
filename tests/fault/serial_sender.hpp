#pragma once
// SerialSender: an Arduino at about 200 frames/s on a pseudo-terminal (PtyPair) whose sketch
// numbers its frames with `seq` and reads `ACK <seq>` lines back. Frame `seq` carries reading
// t = seq of device "uno" at base + 10 ms * seq, so the remote can be compared with what was
// sent and what was acknowledged. Single-threaded: the test thread drives it.

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "tests/drivers/serial/pty_pair.hpp"
#include "tests/sync/loop/agent_harness.hpp"

namespace fieldsync::testing {

class SerialSender {
 public:
  SerialSender(PtyPair& pty, long long base_ms) : pty_(pty), base_ms_(base_ms) {}

  // Sends frames for `duration`, collecting ACKs; `between` runs after every frame.
  template <class Between>
  void SendFor(std::chrono::milliseconds duration, Between between) {
    const auto end = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < end) {
      pty_.Write("{\"device\":\"uno\",\"seq\":" + std::to_string(seq_) +
                 ",\"ts\":" + std::to_string(Ts(seq_)) + ",\"t\":" + std::to_string(seq_) + "}\n");
      ++seq_;
      Collect(pty_.ReadNow());
      between();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  void SendFor(std::chrono::milliseconds duration) {
    SendFor(duration, [] {});
  }
  void DrainAcks(std::chrono::milliseconds limit) { Collect(pty_.Read(limit)); }
  // Reading ACKs stops at an unplug: what was half read belongs to the old port.
  void ForgetPartialAck() { pending_.clear(); }

  long long Ts(unsigned seq) const { return base_ms_ + 10LL * seq; }
  unsigned sent() const { return seq_; }
  const std::set<unsigned>& acked() const { return acked_; }
  std::multiset<std::string> AckedKeys() const {
    std::multiset<std::string> keys;
    for (unsigned s : acked_) keys.insert(ReadingKey("uno", "t", Ts(s), s));
    return keys;
  }

 private:
  void Collect(const std::string& bytes) {
    pending_ += bytes;
    std::size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      if (line.rfind("ACK ", 0) == 0)
        acked_.insert(static_cast<unsigned>(std::stoul(line.substr(4))));
    }
  }

  PtyPair& pty_;
  long long base_ms_;
  unsigned seq_ = 0;
  std::string pending_;
  std::set<unsigned> acked_;
};

}  // namespace fieldsync::testing
