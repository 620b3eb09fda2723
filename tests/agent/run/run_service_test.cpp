// `fieldsync run` as a user runs it: the real binary, a pseudo-terminal as the Arduino, the real
// store read back after the process exited.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/drivers/serial/pty_pair.hpp"
#include "tests/support/temp_dir.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

class Agent {
 public:
  Agent(const std::string& config, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* err = std::freopen(log.c_str(), "w", stderr);
      (void)err;
      ::execl(FIELDSYNC_BINARY, FIELDSYNC_BINARY, "--config", config.c_str(), "run",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Agent() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void Signal(int sig) { ::kill(pid_, sig); }
  bool Alive() { return pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == 0; }
  // Exit status, or -1 when the process did not exit within `limit`.
  int Wait(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
      }
      std::this_thread::sleep_for(5ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

std::string SerialSection(const std::string& name, const std::string& port) {
  return "[[serial]]\nname = \"" + name + "\"\nport = \"" + port +
         "\"\nbaud = 115200\nformat = \"json\"\ndevice = \"uno\"\nack = true\n";
}

// The test machine's clock may not be NTP-synchronised; trusting it keeps agent-stamped readings
// pending (not held for the clock, §10), which is what these tests look for.
std::string Config(const testing::TempDir& dir, const std::string& serial) {
  return "gateway = \"test-gw\"\nstate_dir = \"" + dir.File("state") +
         "\"\n[clock]\ntrust_unsynced = true\n" + serial;
}

// Collects "ACK n" lines from the pty into `acked`.
void ParseAcks(std::string& pending, std::set<unsigned>& acked) {
  std::size_t nl;
  while ((nl = pending.find('\n')) != std::string::npos) {
    std::string line = pending.substr(0, nl);
    pending.erase(0, nl + 1);
    if (line.rfind("ACK ", 0) == 0) acked.insert(static_cast<unsigned>(std::stoul(line.substr(4))));
  }
}

// Writes frames until the agent acknowledges one (it may still be opening the port).
bool WaitForFirstAck(testing::PtyPair& pty, unsigned& seq, std::set<unsigned>& acked) {
  std::string pending;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (acked.empty() && std::chrono::steady_clock::now() < deadline) {
    pty.Write("{\"seq\":" + std::to_string(seq) + ",\"v\":" + std::to_string(seq) + "}\n");
    ++seq;
    pending += pty.Read(100ms);
    ParseAcks(pending, acked);
  }
  return !acked.empty();
}

std::set<double> StoredValues(const std::string& state_dir) {
  core::SystemClock clock;
  auto store = store::Store::Open(state_dir, store::StoreOptions{}, clock);
  CHECK(store.has_value());
  auto pending = (*store)->OldestPending(1'000'000);
  CHECK(pending.has_value());
  std::set<double> values;
  for (const auto& r : pending->readings) values.insert(r.value);
  return values;
}

}  // namespace

TEST_GROUP(RunService) { testing::TempDir dir; };

TEST(RunService, SigtermDuringABusyStreamExitsCleanlyAndKeepsEveryAcknowledgedReading) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  testing::WriteFile(dir.File("fieldsync.toml"),
                     Config(dir, SerialSection("arduino1", pty.link())));
  Agent agent(dir.File("fieldsync.toml"), dir.File("agent.log"));
  unsigned seq = 0;
  std::set<unsigned> acked;
  CHECK_TEXT(WaitForFirstAck(pty, seq, acked), testing::ReadFile(dir.File("agent.log")).c_str());

  std::string pending;
  auto term_at = std::chrono::steady_clock::now() + 300ms;
  bool termed = false;
  int status = -1;
  auto termed_at = std::chrono::steady_clock::now();
  while (true) {
    pty.Write("{\"seq\":" + std::to_string(seq) + ",\"v\":" + std::to_string(seq) + "}\n");
    ++seq;
    pending += pty.ReadNow();
    ParseAcks(pending, acked);
    if (!termed && std::chrono::steady_clock::now() >= term_at) {
      agent.Signal(SIGTERM);
      termed = true;
      termed_at = std::chrono::steady_clock::now();
    }
    if (termed) {
      status = agent.Wait(1ms);
      if (status != -1) break;
      if (std::chrono::steady_clock::now() - termed_at > 5s) break;
    }
    std::this_thread::sleep_for(1ms);
  }
  LONGS_EQUAL_TEXT(0, status, testing::ReadFile(dir.File("agent.log")).c_str());
  CHECK(std::chrono::steady_clock::now() - termed_at < 5s);
  pending += pty.Read(50ms);
  ParseAcks(pending, acked);
  CHECK(acked.size() > 10);

  auto stored = StoredValues(dir.File("state"));
  for (unsigned s : acked) {
    CHECK_TEXT(stored.count(static_cast<double>(s)) == 1,
               ("acknowledged seq " + std::to_string(s) + " is not in the store").c_str());
  }
}

TEST(RunService, ASecondRunIsRefusedWhileTheFirstHoldsTheLock) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  testing::WriteFile(dir.File("fieldsync.toml"),
                     Config(dir, SerialSection("arduino1", pty.link())));
  Agent first(dir.File("fieldsync.toml"), dir.File("first.log"));
  unsigned seq = 0;
  std::set<unsigned> acked;
  CHECK(WaitForFirstAck(pty, seq, acked));

  Agent second(dir.File("fieldsync.toml"), dir.File("second.log"));
  LONGS_EQUAL(1, second.Wait(5s));
  std::string log = testing::ReadFile(dir.File("second.log"));
  CHECK_TEXT(log.find("lock") != std::string::npos, log.c_str());

  first.Signal(SIGTERM);
  LONGS_EQUAL(0, first.Wait(5s));
}

TEST(RunService, SighupAddsAnInputAndABrokenConfigKeepsTheRunningOne) {
  testing::PtyPair one(dir.File("ttyACM0"));
  testing::PtyPair two(dir.File("ttyACM1"));
  const std::string path = dir.File("fieldsync.toml");
  testing::WriteFile(path, Config(dir, SerialSection("arduino1", one.link())));
  Agent agent(path, dir.File("agent.log"));
  unsigned seq = 0;
  std::set<unsigned> acked;
  CHECK(WaitForFirstAck(one, seq, acked));

  testing::WriteFile(path, Config(dir, SerialSection("arduino1", one.link()) +
                                           SerialSection("arduino2", two.link())));
  agent.Signal(SIGHUP);
  unsigned seq2 = 1000;
  std::set<unsigned> acked2;
  CHECK_TEXT(WaitForFirstAck(two, seq2, acked2), testing::ReadFile(dir.File("agent.log")).c_str());

  testing::WriteFile(path, "gateway = \n[[serial]]\nbaud = \"fast\"\n");
  agent.Signal(SIGHUP);
  std::this_thread::sleep_for(200ms);
  CHECK(agent.Alive());
  acked.clear();
  CHECK(WaitForFirstAck(one, seq, acked));  // the first input kept running throughout

  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(5s));
  std::string log = testing::ReadFile(dir.File("agent.log"));
  CHECK_TEXT(log.find("reload failed") != std::string::npos, log.c_str());
}

// The firmware keeps a frame until it sees its ACK. When the agent stops after storing a frame
// but before the ACK reached the board, the board resends it (same seq, no ts) to the next
// agent: that one must know the seq from the store and not keep the frame a second time.
TEST(RunService, AFrameResentAfterARestartIsStoredOnceAndAcknowledgedAgain) {
  testing::PtyPair pty(dir.File("ttyACM0"));
  testing::WriteFile(dir.File("fieldsync.toml"),
                     Config(dir, SerialSection("arduino1", pty.link())));
  // Counters start above 0: a 0 after higher seqs is a board reset by the tracker's rules.
  unsigned seq = 1;
  std::set<unsigned> acked;
  {
    Agent first(dir.File("fieldsync.toml"), dir.File("first.log"));
    CHECK_TEXT(WaitForFirstAck(pty, seq, acked), testing::ReadFile(dir.File("first.log")).c_str());
    first.Signal(SIGTERM);
    LONGS_EQUAL(0, first.Wait(5s));
  }
  const unsigned resent = *acked.rbegin();
  pty.Read(50ms);  // whatever the first agent still wrote

  Agent second(dir.File("fieldsync.toml"), dir.File("second.log"));
  // The resend first, then new frames until one is acknowledged (the port may still be opening).
  std::set<unsigned> acked_again;
  std::string pending;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (acked_again.count(resent) == 0 && std::chrono::steady_clock::now() < deadline) {
    pty.Write("{\"seq\":" + std::to_string(resent) + ",\"v\":" + std::to_string(resent) + "}\n");
    pending += pty.Read(100ms);
    ParseAcks(pending, acked_again);
  }
  CHECK_TEXT(acked_again.count(resent) == 1, testing::ReadFile(dir.File("second.log")).c_str());
  pty.Write("{\"seq\":" + std::to_string(seq) + ",\"v\":" + std::to_string(seq) + "}\n");
  while (acked_again.count(seq) == 0 && std::chrono::steady_clock::now() < deadline) {
    pending += pty.Read(100ms);
    ParseAcks(pending, acked_again);
  }
  CHECK(acked_again.count(seq) == 1);
  second.Signal(SIGTERM);
  LONGS_EQUAL(0, second.Wait(5s));

  core::SystemClock clock;
  auto store = store::Store::Open(dir.File("state"), store::StoreOptions{}, clock);
  CHECK(store.has_value());
  auto stored = (*store)->OldestPending(1'000'000);
  CHECK(stored.has_value());
  int copies = 0;
  for (const auto& r : stored->readings) copies += r.value == static_cast<double>(resent) ? 1 : 0;
  LONGS_EQUAL_TEXT(1, copies, ("seq " + std::to_string(resent) + " stored more than once").c_str());
  auto stats = (*store)->Stats();
  CHECK(stats.has_value());
  CHECK(stats->inputs["arduino1"].duplicates >= 1);
}
