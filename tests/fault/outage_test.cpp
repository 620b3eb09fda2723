// A PostgreSQL outage while an Arduino (a pseudo-terminal) keeps sending: the agent keeps
// acknowledging frames, and when the server is back the backlog drains with the aggregates
// first, and the remote holds exactly the acknowledged readings. Quick: a 20 s outage;
// FIELDSYNC_FAULT_FULL=1: a minute.
#include <set>
#include <string>

#include "tests/drivers/serial/pty_pair.hpp"
#include "tests/fault/fault_env.hpp"
#include "tests/sync/loop/agent_harness.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

// An Arduino at ~200 frames/s: frame `seq` carries reading t = seq at base + 10 ms * seq.
class Sender {
 public:
  Sender(testing::PtyPair& pty, long long base_ms) : pty_(pty), base_ms_(base_ms) {}

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
      std::this_thread::sleep_for(5ms);
    }
  }
  void SendFor(std::chrono::milliseconds duration) {
    SendFor(duration, [] {});
  }
  void DrainAcks(std::chrono::milliseconds limit) { Collect(pty_.Read(limit)); }

  long long Ts(unsigned seq) const { return base_ms_ + 10LL * seq; }
  unsigned sent() const { return seq_; }
  const std::set<unsigned>& acked() const { return acked_; }
  std::multiset<std::string> AckedKeys() const {
    std::multiset<std::string> keys;
    for (unsigned s : acked_) keys.insert(testing::ReadingKey("uno", "t", Ts(s), s));
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

  testing::PtyPair& pty_;
  long long base_ms_;
  unsigned seq_ = 0;
  std::string pending_;
  std::set<unsigned> acked_;
};

}  // namespace

TEST_GROUP(Outage) { testing::TempDir dir; };

TEST(Outage, BacklogDrainsAggregatesFirstAndNothingIsLost) {
  auto url = testing::TestPgUrl();
  auto stop = testing::RequireEnv("FIELDSYNC_TEST_PG_STOP");
  auto start = testing::RequireEnv("FIELDSYNC_TEST_PG_START");
  if (!url || !stop || !start) return;
  const auto outage = testing::FaultFull() ? 60s : 20s;
  testing::PgTestSchema schema(*url);
  testing::PtyPair pty(dir.File("ttyACM0"));
  const std::string config = dir.File("fieldsync.toml");
  testing::WriteFile(config,
                     testing::AgentConfig(dir, schema, 200, 1,
                                          "[[serial]]\nname = \"arduino\"\nport = \"" + pty.link() +
                                              "\"\nformat = \"json\"\nack = true\n"));
  LONGS_EQUAL(0, testing::RunFieldsync(config, "remote migrate", dir.File("migrate.log")));

  testing::RunningAgent agent(config, dir.File("agent.log"));
  Sender sender(pty, testing::NowMs() - 30 * 60'000);
  sender.SendFor(3s);
  CHECK_TEXT(!sender.acked().empty(), testing::ReadFile(dir.File("agent.log")).c_str());

  CHECK(testing::RunScript(*stop));
  const unsigned first_in_outage = sender.sent();
  sender.SendFor(outage);
  const std::size_t acked_before_start = sender.acked().size();
  CHECK(testing::RunScript(*start));

  // Readings from the outage may only arrive once every acknowledged reading so far is in the
  // hourly buckets: the first cycle after the outage sends the buckets first.
  const std::string counts =
      "SELECT (SELECT count(*) FROM " + schema.name() + ".readings WHERE ts >= to_timestamp(" +
      std::to_string(static_cast<double>(sender.Ts(first_in_outage)) / 1000.0) +
      ")), (SELECT coalesce(sum(n), 0) FROM " + schema.name() + ".hourly)";
  bool backlog_seen = false;
  long long buckets_when_seen = 0;
  int polls = 0;
  sender.SendFor(5s, [&] {
    if (backlog_seen || ++polls % 10 != 0) return;
    auto result = schema.Exec(counts);
    if (std::stoll(std::string(result.Value(0, 0))) > 0) {
      backlog_seen = true;
      buckets_when_seen = std::stoll(std::string(result.Value(0, 1)));
    }
  });
  CHECK_TEXT(backlog_seen, testing::ReadFile(dir.File("agent.log")).c_str());
  CHECK_TEXT(buckets_when_seen >= static_cast<long long>(acked_before_start),
             ("hourly n " + std::to_string(buckets_when_seen) + " < acknowledged " +
              std::to_string(acked_before_start))
                 .c_str());

  // Every frame from the first acknowledged one on is acknowledged (none was refused meanwhile);
  // read their ACKs before taking the acknowledged set.
  const unsigned first_acked = *sender.acked().begin();
  CHECK(testing::WaitFor(
      [&] {
        sender.DrainAcks(50ms);
        return sender.acked().size() >= sender.sent() - first_acked;
      },
      10s, 1ms));
  const auto acked = sender.AckedKeys();
  CHECK_TEXT(
      testing::WaitFor(
          [&] { return testing::RemoteCount(schema) >= static_cast<long long>(acked.size()); },
          60s),
      testing::ReadFile(dir.File("agent.log")).c_str());
  // The buckets of the last readings go with the next cycle.
  CHECK(testing::WaitFor(
      [&] {
        return testing::RemoteCount(schema, "hourly", "sum(n)") ==
               static_cast<long long>(acked.size());
      },
      10s));
  agent.Signal(SIGTERM);
  LONGS_EQUAL(0, agent.Wait(10s));
  CHECK(testing::RemoteReadings(schema) == acked);
  LONGS_EQUAL(static_cast<long long>(acked.size()),
              testing::RemoteCount(schema, "hourly", "sum(n)"));
  LONGS_EQUAL(0, testing::LocalPending(dir.File("state")));
}
