#include "sync/sql_state.hpp"

#include <CppUTest/TestHarness.h>

using fieldsync::core::Errc;
using fieldsync::sync::ErrcForSqlState;

TEST_GROUP(SqlState){};

TEST(SqlState, TransientClassesRetry) {
  CHECK(ErrcForSqlState("08006") == Errc::kUnavailable);  // connection failure
  CHECK(ErrcForSqlState("40001") == Errc::kUnavailable);  // serialization failure
  CHECK(ErrcForSqlState("40P01") == Errc::kUnavailable);  // deadlock
  CHECK(ErrcForSqlState("53300") == Errc::kUnavailable);  // too many connections
  CHECK(ErrcForSqlState("57P01") == Errc::kUnavailable);  // admin shutdown
}

TEST(SqlState, UniqueViolationIsDistinctFromOtherDataErrors) {
  CHECK(ErrcForSqlState("23505") == Errc::kConflict);
  CHECK(ErrcForSqlState("23514") == Errc::kRemoteData);  // check violation
  CHECK(ErrcForSqlState("22003") == Errc::kRemoteData);  // numeric out of range
}

TEST(SqlState, EverythingElseNeedsAHuman) {
  CHECK(ErrcForSqlState("42P01") == Errc::kRemoteOther);  // undefined table
  CHECK(ErrcForSqlState("42501") == Errc::kRemoteOther);  // insufficient privilege
  CHECK(ErrcForSqlState("0A000") == Errc::kRemoteOther);
  CHECK(ErrcForSqlState("54000") == Errc::kRemoteOther);
  CHECK(ErrcForSqlState("XX000") == Errc::kRemoteOther);
  CHECK(ErrcForSqlState("") == Errc::kRemoteOther);
}
