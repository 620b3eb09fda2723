#include "core/time.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldsync::core;

TEST_GROUP(Time){};

TEST(Time, Rfc3339RoundTripsWithMicroseconds) {
  auto ts = ParseRfc3339("2026-11-22T10:15:30.123456Z");
  CHECK(ts.has_value());
  STRCMP_EQUAL("2026-11-22T10:15:30.123456Z", FormatRfc3339(*ts).c_str());
}

TEST(Time, Rfc3339AppliesOffsetAndRoundsExtraDigits) {
  auto a = ParseRfc3339("2026-03-29T03:30:00.0000005+02:00");
  CHECK(a.has_value());
  STRCMP_EQUAL("2026-03-29T01:30:00.000001Z", FormatRfc3339(*a).c_str());
}

TEST(Time, Rfc3339RejectsGarbageAndImpossibleDates) {
  CHECK_FALSE(ParseRfc3339("2026-02-30T00:00:00Z").has_value());
  CHECK_FALSE(ParseRfc3339("2026-11-22T10:15:30").has_value());  // no zone
  CHECK_FALSE(ParseRfc3339("yesterday").has_value());
  CHECK_FALSE(ParseRfc3339("2026-11-22T25:00:00Z").has_value());
}

TEST(Time, EpochNumbersPickTheirUnitByMagnitude) {
  LONGLONGS_EQUAL(1'700'000'000'000'000LL, *EpochNumberToUs(1.7e9));               // seconds
  LONGLONGS_EQUAL(1'700'000'000'123'000LL, *EpochNumberToUs(1700000000123.0));     // millis
  LONGLONGS_EQUAL(1'700'000'000'123'456LL, *EpochNumberToUs(1700000000123456.0));  // micros
  LONGLONGS_EQUAL(1'700'000'000'500'000LL, *EpochNumberToUs(1700000000.5));
}

TEST(Time, FormatBeforeEpochAndIsoDates) {
  STRCMP_EQUAL("1969-12-31T23:59:59.999999Z", FormatRfc3339(-1).c_str());
  auto d = ParseIsoDate("2024-02-29");
  CHECK(d.has_value());
  STRCMP_EQUAL("2024-02-29", FormatIsoDate(*d).c_str());
  CHECK_FALSE(ParseIsoDate("2023-02-29").has_value());
}

TEST(Time, FloorDivRoundsTowardNegativeInfinity) {
  LONGLONGS_EQUAL(-1, FloorDiv(-1, kMicrosPerHour));
  LONGLONGS_EQUAL(0, FloorDiv(0, kMicrosPerHour));
  LONGLONGS_EQUAL(1, FloorDiv(kMicrosPerHour, kMicrosPerHour));
}
