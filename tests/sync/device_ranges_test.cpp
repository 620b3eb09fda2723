#include "sync/device_ranges.hpp"

#include <CppUTest/TestHarness.h>

using fieldsync::sync::DeviceRanges;

TEST_GROUP(DeviceRanges){};

TEST(DeviceRanges, EachDeviceGetsItsEarliestAndLatestReadingInNameOrder) {
  DeviceRanges ranges;
  ranges.Add("pump", 3'000'000);
  ranges.Add("meter", 5'000'000);
  ranges.Add("pump", 1'000'000);
  ranges.Add("pump", 2'000'000);
  const auto statement = ranges.UpsertStatement("\"fieldsync\"", "gw");
  LONGS_EQUAL(4, statement.params.size());
  STRCMP_EQUAL("gw", statement.params[0]->c_str());
  STRCMP_EQUAL("{\"meter\",\"pump\"}", statement.params[1]->c_str());
  STRCMP_EQUAL("{\"1970-01-01T00:00:05Z\",\"1970-01-01T00:00:01Z\"}", statement.params[2]->c_str());
  STRCMP_EQUAL("{\"1970-01-01T00:00:05Z\",\"1970-01-01T00:00:03Z\"}", statement.params[3]->c_str());
  CHECK(statement.sql.find("\"fieldsync\".devices") != std::string::npos);
}

TEST(DeviceRanges, QuotesAndBackslashesInANameAreEscapedInTheArrayLiteral) {
  DeviceRanges ranges;
  ranges.Add("a\"b\\c", 0);
  STRCMP_EQUAL("{\"a\\\"b\\\\c\"}", ranges.UpsertStatement("s", "gw").params[1]->c_str());
}
