// The real `fieldsync transfer` binary: exit codes and the counts it prints.
#include <sys/wait.h>

#include <cstdlib>

#include "sync/remote_schema.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/sync/pg_test_schema.hpp"
#include "tests/sync/transfer/transfer_databases.hpp"

// CppUTest last: its leak checker redefines operator new.
#include <CppUTest/TestHarness.h>

using namespace fieldsync::testing;

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Outcome RunBinary(const std::string& args) {
  TempDir dir;
  const std::string command = std::string(FIELDSYNC_BINARY) + " transfer " + args + " >" +
                              dir.File("out") + " 2>" + dir.File("err") + " </dev/null";
  const int status = std::system(command.c_str());
  Outcome outcome;
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  outcome.out = ReadFile(dir.File("out"));
  outcome.err = ReadFile(dir.File("err"));
  return outcome;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_GROUP(TransferBinary){};

TEST(TransferBinary, UsageErrorsExitTwo) {
  const std::string urls = "--source-url postgresql://h/a --target-url postgresql://h/b ";
  auto bad_date = RunBinary(urls + "--start-date 2024-13-01 --end-date 2024-12-31");
  CHECK_EQUAL(2, bad_date.exit_code);
  CHECK(Contains(bad_date.err, "--start-date \"2024-13-01\""));
  auto reversed = RunBinary(urls + "--start-date 2024-03-02 --end-date 2024-03-01");
  CHECK_EQUAL(2, reversed.exit_code);
  CHECK(Contains(reversed.err, "is before --start-date"));
  auto conflict = RunBinary(urls + "--table a.b --on-conflict replace");
  CHECK_EQUAL(2, conflict.exit_code);
}

TEST(TransferBinary, CopiesAndPrintsCountsPerTable) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  for (const auto& side : {dbs.source_url(), dbs.target_url()}) {
    auto conn = fieldsync::sync::PgConnection::Connect(side, 30);
    CHECK(conn.has_value());
    CHECK(fieldsync::sync::MigrateSchema(**conn, "fieldsync").has_value());
  }
  dbs.Source(
      "INSERT INTO fieldsync.devices VALUES ('g', 'd', NULL, NULL);"
      "INSERT INTO fieldsync.readings (gateway, device, metric, ts, value) SELECT 'g', 'd', "
      "'m', t, 1 FROM generate_series('2024-03-01Z'::timestamptz, '2024-03-03Z', "
      "interval '1 minute') t");
  const std::string args = "--source-url " + Quoted(dbs.source_url()) + " --target-url " +
                           Quoted(dbs.target_url()) +
                           " --start-date 2024-03-02 --end-date 2024-03-02 --devices";
  auto dry = RunBinary(args + " --dry-run");
  CHECK_EQUAL(0, dry.exit_code);
  CHECK_TEXT(Contains(dry.out, "dry run: nothing written"), dry.out.c_str());
  STRCMP_EQUAL("0", dbs.TargetValue("SELECT count(*) FROM fieldsync.readings").c_str());

  auto run = RunBinary(args);
  CHECK_EQUAL_TEXT(0, run.exit_code, run.err.c_str());
  CHECK_TEXT(Contains(run.out, "readings        1440        1440           0"), run.out.c_str());
  CHECK(Contains(run.out, "devices            1           1           0"));
  // The harness URL carries a password: warned about, never printed.
  if (Contains(*url, ":fieldsync@")) {
    CHECK(Contains(run.err, "carries a password"));
    CHECK(!Contains(run.out + run.err, ":fieldsync@"));
  }
  auto again = RunBinary(args);
  CHECK_EQUAL(0, again.exit_code);
  CHECK_TEXT(Contains(again.out, "readings        1440           0        1440"),
             again.out.c_str());

  auto unreachable =
      RunBinary("--source-url postgresql://u:pw123@127.0.0.1:1/x --target-url " +
                Quoted(dbs.target_url()) + " --start-date 2024-03-02 --end-date 2024-03-02");
  CHECK_EQUAL(1, unreachable.exit_code);
  CHECK(Contains(unreachable.err, "source: cannot connect"));
  CHECK(!Contains(unreachable.err, "pw123"));
}
