// PgConnection's COPY TO STDOUT against a real server: rows one by one, the end, and an error
// raised half-way through the stream.

#include "sync/pg_connection.hpp"
#include "tests/sync/pg_test_schema.hpp"

// CppUTest last: its leak checker redefines operator new.
#include <CppUTest/TestHarness.h>

using fieldsync::core::Errc;
using namespace fieldsync::sync;
using fieldsync::testing::PgTestSchema;
using fieldsync::testing::TestPgUrl;

TEST_GROUP(PgCopyOut){};

TEST(PgCopyOut, StreamsRowsThenEndsAndTheLinkStaysUsable) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  auto begun =
      conn->BeginCopyOut("COPY (SELECT g, E'a\\tb', NULL FROM generate_series(1, 3) g) TO STDOUT");
  CHECK_TEXT(begun.has_value(), begun ? "" : begun.error().message.c_str());
  std::string all;
  int rows = 0;
  while (true) {
    auto row = conn->GetCopyRow();
    CHECK_TEXT(row.has_value(), row ? "" : row.error().message.c_str());
    if (!*row) break;
    all += std::string(**row);
    ++rows;
  }
  CHECK_EQUAL(3, rows);
  STRCMP_EQUAL("1\ta\\tb\t\\N\n2\ta\\tb\t\\N\n3\ta\\tb\t\\N\n", all.c_str());
  auto after = conn->Exec("SELECT 7");
  CHECK(after.has_value());
  STRCMP_EQUAL("7", std::string(after->Value(0, 0)).c_str());
}

TEST(PgCopyOut, ErrorHalfWayIsReportedWithItsClass) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  // Enough rows that some reach the client before the division by zero at the end.
  auto begun = conn->BeginCopyOut(
      "COPY (SELECT 1 / (100000 - g) FROM generate_series(1, 100000) g) TO STDOUT");
  CHECK(begun.has_value());
  bool failed = false;
  for (int i = 0; i < 200000 && !failed; ++i) {
    auto row = conn->GetCopyRow();
    if (!row) {
      failed = true;
      CHECK(row.error().code == Errc::kRemoteData);
      STRCMP_EQUAL("22012", conn->last_sqlstate().c_str());
    } else if (!*row) {
      break;
    }
  }
  CHECK(failed);
  CHECK(!conn->BeginCopyOut("SELECT 1"));  // not a COPY: refused
}
