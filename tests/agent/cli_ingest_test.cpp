// `fieldsync ingest` and `fieldsync status --json` on the built binary: a generated file of good
// and bad frames, counted exactly, and idempotent when ingested again.
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "store/state_lock.hpp"
#include "tests/agent/command_runner.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::testing::CommandOutput;
using fieldsync::testing::RunFieldsync;
using fieldsync::testing::TempDir;
using fieldsync::testing::WriteFile;
using nlohmann::json;

namespace {

constexpr int kGoodFrames = 300;  // two readings each
constexpr int kResent = 4;        // good frames repeated verbatim
constexpr int kParse = 5;
constexpr int kBadName = 3;
constexpr int kNoReadings = 2;
constexpr int kTooLong = 1;

std::string GoodFrame(int i) {
  // Every frame carries its own ts, so the same file always yields the same readings.
  return "{\"device\":\"dev1\",\"ts\":" + std::to_string(1700000000 + i) +
         ",\"temperature\":" + std::to_string(20 + i % 7) + ".5,\"humidity\":40}";
}

std::string MixedFrames() {
  std::string text;
  for (int i = 0; i < kGoodFrames; ++i) {
    text += GoodFrame(i) + "\n";
    if (i % 60 == 0 && i / 60 < kParse) text += "{\"device\":\"dev1\",\"temperature\":\n";
    if (i % 100 == 1 && i / 100 < kBadName) {
      text += "{\"device\":\"bad name\",\"ts\":1700000000,\"x\":1}\n";
    }
    if (i % 150 == 2 && i / 150 < kNoReadings) text += "{\"device\":\"dev1\",\"note\":\"hi\"}\n";
  }
  for (int i = 0; i < kResent; ++i) text += GoodFrame(i) + "\r\n";
  text += std::string(5000, 'x') + "\n";  // longer than max_line (4096)
  text += "\n\n";                         // blank lines are not frames
  return text;
}

json ParseJson(const CommandOutput& r) {
  json parsed = json::parse(r.out, nullptr, false);
  if (parsed.is_discarded()) FAIL(("not JSON: " + r.out + r.err).c_str());
  return parsed;
}

const json* FindInput(const json& status, const std::string& name) {
  for (const json& input : status["inputs"]) {
    if (input["name"] == name) return &input;
  }
  return nullptr;
}

}  // namespace

TEST_GROUP(CliIngest) {
  TempDir dir;
  std::string config;
  std::string frames;

  void setup() override {
    config = dir.File("fieldsync.toml");
    WriteFile(config, "gateway = \"gw-test\"\nstate_dir = \"" + dir.File("state") +
                          "\"\n[http]\nlisten = \"\"\n[[serial]]\nname = \"arduino1\"\n"
                          "port = \"/dev/ttyACM0\"\n");
    frames = dir.File("frames.jsonl");
    WriteFile(frames, MixedFrames());
  }

  CommandOutput Run(const std::string& args) {
    return RunFieldsync(dir, "--config '" + config + "' " + args);
  }

  json Status() {
    CommandOutput r = Run("status --json");
    LONGS_EQUAL(0, r.exit_code);
    return ParseJson(r);
  }
};

TEST(CliIngest, CountsEveryFrameByOutcome) {
  CommandOutput r = Run("ingest --json '" + frames + "'");
  LONGS_EQUAL(0, r.exit_code);  // rejected frames do not make ingest fail
  json tally = ParseJson(r);
  LONGS_EQUAL(2 * kGoodFrames, tally["accepted"].get<long>());
  LONGS_EQUAL(2 * kResent, tally["duplicates"].get<long>());
  LONGS_EQUAL(kParse, tally["rejected"]["parse"].get<long>());
  LONGS_EQUAL(kBadName, tally["rejected"]["bad_name"].get<long>());
  LONGS_EQUAL(kNoReadings, tally["rejected"]["no_readings"].get<long>());
  LONGS_EQUAL(kTooLong, tally["rejected"]["too_long"].get<long>());
  LONGS_EQUAL(kGoodFrames + kResent + kParse + kBadName + kNoReadings + kTooLong,
              tally["frames"].get<long>());
}

TEST(CliIngest, StatusReportsWhatWasIngestedFieldByField) {
  LONGS_EQUAL(0, Run("ingest '" + frames + "'").exit_code);
  json status = Status();
  STRCMP_EQUAL("gw-test", status["gateway"].get<std::string>().c_str());
  CHECK(status["instance_id"].is_string());
  CHECK(status["uptime_s"].is_null());
  LONGS_EQUAL(2 * kGoodFrames, status["pending"]["readings"].get<long>());
  STRCMP_EQUAL("2023-11-14T22:13:20Z", status["pending"]["oldest_ts"].get<std::string>().c_str());
  LONGS_EQUAL(2 * kResent, status["duplicates"].get<long>());
  LONGS_EQUAL(0, status["dropped"].get<long>());
  CHECK(status["store"]["bytes"].get<long>() > 0);
  LONGS_EQUAL(1024L * 1024 * 1024, status["store"]["max_bytes"].get<long>());
  CHECK(status["last_sync"]["at"].is_null());

  const json* ingest = FindInput(status, "ingest");
  CHECK(ingest != nullptr);
  STRCMP_EQUAL("ingest", (*ingest)["kind"].get<std::string>().c_str());
  LONGS_EQUAL(2 * kGoodFrames, (*ingest)["readings"].get<long>());
  const json& rejected = (*ingest)["rejected"];
  LONGS_EQUAL(kParse, rejected["parse"].get<long>());
  LONGS_EQUAL(kBadName, rejected["bad_name"].get<long>());
  LONGS_EQUAL(kNoReadings, rejected["no_readings"].get<long>());
  LONGS_EQUAL(kTooLong, rejected["too_long"].get<long>());
  LONGS_EQUAL(4, rejected.size());

  // A configured input that never ran is listed with zero counters and unknown connection.
  const json* serial = FindInput(status, "arduino1");
  CHECK(serial != nullptr);
  STRCMP_EQUAL("serial", (*serial)["kind"].get<std::string>().c_str());
  CHECK((*serial)["connected"].is_null());
  LONGS_EQUAL(0, (*serial)["frames"].get<long>());
}

TEST(CliIngest, IngestingTheSameFileAgainAddsNoPendingReading) {
  LONGS_EQUAL(0, Run("ingest '" + frames + "'").exit_code);
  CommandOutput again = Run("ingest --json '" + frames + "'");
  LONGS_EQUAL(0, again.exit_code);
  json tally = ParseJson(again);
  LONGS_EQUAL(0, tally["accepted"].get<long>());
  LONGS_EQUAL(2 * (kGoodFrames + kResent), tally["duplicates"].get<long>());
  json status = Status();
  LONGS_EQUAL(2 * kGoodFrames, status["pending"]["readings"].get<long>());
  LONGS_EQUAL(2 * (kGoodFrames + 2 * kResent), status["duplicates"].get<long>());
}

TEST(CliIngest, StdinWithFormatAndDevice) {
  WriteFile(dir.File("kv.txt"), "ts=1700000000, temperature=21.5\nts=1700000001 temperature=22\n");
  CommandOutput r =
      RunFieldsync(dir, "--config '" + config + "' ingest --format kv --device board7 - < '" +
                            dir.File("kv.txt") + "'");
  LONGS_EQUAL(0, r.exit_code);
  CHECK(r.out.find("accepted    2 readings in 2 frames") != std::string::npos);
  LONGS_EQUAL(2, Status()["pending"]["readings"].get<long>());
}

TEST(CliIngest, DryRunWritesNothing) {
  CommandOutput r = Run("ingest --dry-run --json '" + frames + "'");
  LONGS_EQUAL(0, r.exit_code);
  json tally = ParseJson(r);
  CHECK(tally["dry_run"].get<bool>());
  // Without the store the resent frames (no seq) cannot be told apart: all are decoded.
  LONGS_EQUAL(2 * (kGoodFrames + kResent), tally["accepted"].get<long>());
  // No store was created; status says so without creating one either.
  json status = Status();
  CHECK(status["instance_id"].is_null());
  LONGS_EQUAL(0, status["pending"]["readings"].get<long>());
  CHECK_FALSE(std::ifstream(dir.File("state/fieldsync.db")).good());
}

TEST(CliIngest, RefusedWhileAnotherProcessHoldsTheLock) {
  LONGS_EQUAL(0, Run("ingest '" + frames + "'").exit_code);
  auto lock = fieldsync::store::StateLock::Acquire(dir.File("state"));
  CHECK(lock.has_value());
  CommandOutput r = Run("ingest '" + frames + "'");
  LONGS_EQUAL(1, r.exit_code);
  CHECK(r.err.find("cannot ingest") != std::string::npos);
}

TEST(CliIngest, MissingInputFileIsAUsageError) {
  CommandOutput r = Run("ingest '" + dir.File("nope.jsonl") + "'");
  LONGS_EQUAL(2, r.exit_code);
  CHECK(r.err.find("nope.jsonl") != std::string::npos);
}
