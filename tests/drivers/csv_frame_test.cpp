#include "drivers/csv_frame.hpp"

#include <string>
#include <vector>

#include <CppUTest/TestHarness.h>

using namespace fieldsync::drivers;
using fieldsync::core::RejectReason;

TEST_GROUP(CsvFrame) { std::vector<std::string> fields{"temperature", "humidity", "pressure"}; };

TEST(CsvFrame, ValuesFollowTheFieldOrder) {
  ParseResult r = ParseCsvFrame("22.5, 55 ,1013", fields);
  CHECK(r.frame.has_value());
  LONGS_EQUAL(3, r.frame->readings.size());
  STRCMP_EQUAL("humidity", r.frame->readings[1].metric.c_str());
  DOUBLES_EQUAL(55, r.frame->readings[1].value, 0);
  DOUBLES_EQUAL(1013, r.frame->readings[2].value, 0);
}

TEST(CsvFrame, EmptyCellIsAMissingValue) {
  ParseResult r = ParseCsvFrame("22.5,,1013", fields);
  CHECK(r.frame.has_value());
  LONGS_EQUAL(2, r.frame->readings.size());
  STRCMP_EQUAL("pressure", r.frame->readings[1].metric.c_str());
  r = ParseCsvFrame(" , ,", fields);
  CHECK(r.frame.has_value());
  LONGS_EQUAL(0, r.frame->readings.size());
}

TEST(CsvFrame, WrongNumberOfCellsIsParse) {
  ParseResult fewer = ParseCsvFrame("22.5,55", fields);
  CHECK(fewer.rejection.has_value());
  LONGS_EQUAL(RejectReason::kParse, fewer.rejection->reason);
  ParseResult more = ParseCsvFrame("22.5,55,1013,4", fields);
  CHECK(more.rejection.has_value());
  LONGS_EQUAL(RejectReason::kParse, more.rejection->reason);
}

TEST(CsvFrame, NonNumericCellIsBadValue) {
  ParseResult r = ParseCsvFrame("22.5,wet,1013", fields);
  CHECK(r.rejection.has_value());
  LONGS_EQUAL(RejectReason::kBadValue, r.rejection->reason);
}

TEST(CsvFrame, ReservedColumns) {
  std::vector<std::string> cols{"device", "ts", "seq", "v"};
  ParseResult r = ParseCsvFrame("uno-2,1700000000,9,3.5", cols);
  CHECK(r.frame.has_value());
  STRCMP_EQUAL("uno-2", r.frame->device->c_str());
  LONGLONGS_EQUAL(1'700'000'000'000'000LL, *r.frame->ts);
  LONGS_EQUAL(9, *r.frame->seq);
  LONGS_EQUAL(1, r.frame->readings.size());
  ParseResult no_ts = ParseCsvFrame("uno-2,,9,3.5", cols);
  CHECK(no_ts.frame.has_value());
  CHECK_FALSE(no_ts.frame->ts.has_value());
  ParseResult bad_ts = ParseCsvFrame("uno-2,later,9,3.5", cols);
  LONGS_EQUAL(RejectReason::kBadTs, bad_ts.rejection->reason);
}
