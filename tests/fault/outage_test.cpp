// A PostgreSQL outage while an Arduino (a pseudo-terminal) keeps sending: the agent keeps
// acknowledging frames, and when the server is back the backlog drains with the aggregates
// first, and the remote holds exactly the acknowledged readings. Quick: a 20 s outage;
// FIELDSYNC_FAULT_FULL=1: a minute.
#include <string>

#include "tests/drivers/serial/pty_pair.hpp"
#include "tests/fault/fault_env.hpp"
#include "tests/fault/fault_scenario.hpp"
#include "tests/fault/serial_sender.hpp"
#include "tests/sync/loop/agent_harness.hpp"

// Last: its leak-checking operator new macros break standard headers included after it.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using namespace std::chrono_literals;

TEST_GROUP(Outage) { testing::TempDir dir; };

TEST(Outage, BacklogDrainsAggregatesFirstAndNothingIsLost) {
  auto url = testing::TestPgUrl();
  auto stop = testing::RequireEnv("FIELDSYNC_TEST_PG_STOP");
  auto start = testing::RequireEnv("FIELDSYNC_TEST_PG_START");
  if (!url || !stop || !start) return;
  const auto started = std::chrono::steady_clock::now();
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
  testing::SerialSender sender(pty, testing::NowMs() - 30 * 60'000);
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

  testing::ScenarioTally tally;
  tally.generated = sender.sent();
  tally.acknowledged = static_cast<long long>(acked.size());
  tally.stored_local = static_cast<long long>(acked.size());
  tally.landed_remote = testing::RemoteCount(schema);
  tally.integrity = testing::IntegrityCheck(dir.File("state"));
  STRCMP_EQUAL("ok", tally.integrity.c_str());
  tally.extra = {{"outage_s", std::to_string(outage.count())}};
  testing::PrintPassLine("pg-outage", tally, started);
}
