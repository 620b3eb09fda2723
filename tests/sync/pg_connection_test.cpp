// PgConnection against a real PostgreSQL: deadlines, error classes, COPY, lost links.
#include "sync/pg_connection.hpp"

#include <CppUTest/TestHarness.h>

#include <chrono>
#include <thread>

#include "tests/sync/pg_test_schema.hpp"

using fieldsync::core::Errc;
using namespace fieldsync::sync;
using fieldsync::testing::PgTestSchema;
using fieldsync::testing::TestPgUrl;

TEST_GROUP(PgConnection){};

TEST(PgConnection, RunsParameterisedQueries) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  CHECK(conn->server_version() >= 120000);
  auto r = conn->Exec("SELECT $1::int + 1, $2::text IS NULL", {std::string("41"), std::nullopt});
  CHECK_TEXT(r.has_value(), r ? "" : r.error().message.c_str());
  STRCMP_EQUAL("42", std::string(r->Value(0, 0)).c_str());
  STRCMP_EQUAL("t", std::string(r->Value(0, 1)).c_str());
}

TEST(PgConnection, ServerErrorsAreClassifiedAndTheLinkSurvives) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  auto div = conn->Exec("SELECT 1 / 0");
  CHECK(!div && div.error().code == Errc::kRemoteData);
  STRCMP_EQUAL("22012", conn->last_sqlstate().c_str());
  auto syntax = conn->Exec("SELEC 1");
  CHECK(!syntax && syntax.error().code == Errc::kRemoteOther);
  auto unique = conn->Exec(
      "CREATE TEMP TABLE u (k int PRIMARY KEY); INSERT INTO u VALUES (1); INSERT INTO u VALUES "
      "(1)");
  CHECK(!unique && unique.error().code == Errc::kConflict);
  STRCMP_EQUAL("23505", conn->last_sqlstate().c_str());
  CHECK(conn->connected());
  CHECK(conn->Exec("SELECT 1").has_value());
}

TEST(PgConnection, SlowStatementMissesItsDeadlineAndIsCancelled) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect(1);
  const auto start = std::chrono::steady_clock::now();
  auto r = conn->Exec("SELECT pg_sleep(20) /* deadline-probe */");
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(!r && r.error().code == Errc::kTimeout);
  CHECK(took < std::chrono::seconds(3));
  CHECK_FALSE(conn->connected());
  CHECK(!conn->Exec("SELECT 1") && conn->Exec("SELECT 1").error().code == Errc::kUnavailable);
  // The server stops working on it: cancelled, or its session ended with the dropped link.
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gone = db.Exec(
                 "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
                 "query LIKE '%deadline-probe%' AND pid <> pg_backend_pid()")
               .Value(0, 0) == "0";
  }
  CHECK(gone);
}

TEST(PgConnection, TerminatedBackendIsUnavailable) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  auto pid = conn->Exec("SELECT pg_backend_pid()");
  CHECK(pid.has_value());
  db.Exec("SELECT pg_terminate_backend(" + std::string(pid->Value(0, 0)) + ")");
  auto r = conn->Exec("SELECT 1");
  CHECK(!r);
  LONGS_EQUAL(static_cast<int>(Errc::kUnavailable), static_cast<int>(r.error().code));
  CHECK_FALSE(conn->connected());
}

TEST(PgConnection, UnreachableServerIsUnavailableAndNoPasswordInTheMessage) {
  auto conn = PgConnection::Connect("postgresql://agent:topsecret@127.0.0.1:1/farm", 5);
  CHECK(!conn);
  CHECK(conn.error().code == Errc::kUnavailable);
  CHECK(conn.error().message.find("topsecret") == std::string::npos);
  auto bad = PgConnection::Connect("host=db password='topsecret", 5);
  CHECK(!bad && bad.error().code == Errc::kInvalidArgument);
  CHECK(bad.error().message.find("topsecret") == std::string::npos);
}

TEST(PgConnection, CopyStreamsRowsInAnySplit) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  CHECK(conn->Exec("CREATE TEMP TABLE c (k int, t text)").has_value());
  CHECK(conn->BeginCopy("COPY c FROM STDIN").has_value());
  std::string data;
  for (int i = 0; i < 10000; ++i) data += std::to_string(i) + "\tline\\twith tab\n";
  for (size_t at = 0; at < data.size(); at += 777) {
    CHECK(conn->PutCopyData(std::string_view(data).substr(at, 777)).has_value());
  }
  auto done = conn->EndCopy();
  CHECK_TEXT(done.has_value(), done ? "" : done.error().message.c_str());
  LONGS_EQUAL(10000, done->AffectedRows());
  auto r = conn->Exec("SELECT count(*), min(t) FROM c");
  STRCMP_EQUAL("10000", std::string(r->Value(0, 0)).c_str());
  STRCMP_EQUAL("line\twith tab", std::string(r->Value(0, 1)).c_str());
}

TEST(PgConnection, CopyThroughExecIsRefused) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  CHECK(conn->Exec("CREATE TEMP TABLE c (k int)").has_value());
  auto r = conn->Exec("COPY c FROM STDIN");
  CHECK(!r && r.error().code == Errc::kInternal);
  CHECK_FALSE(conn->connected());
}

TEST(PgConnection, BadCopyDataIsADataError) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  CHECK(conn->Exec("CREATE TEMP TABLE c (k int)").has_value());
  CHECK(conn->BeginCopy("COPY c FROM STDIN").has_value());
  CHECK(conn->PutCopyData("1\nnot-a-number\n").has_value());
  auto done = conn->EndCopy();
  CHECK(!done && done.error().code == Errc::kRemoteData);
  CHECK(conn->Exec("SELECT 1").has_value());
}
