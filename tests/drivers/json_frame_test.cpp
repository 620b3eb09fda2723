#include "drivers/json_frame.hpp"

#include <string>

#include <CppUTest/TestHarness.h>

using namespace fieldsync::drivers;
using fieldsync::core::RejectReason;

namespace {

RawFrame Accepted(const std::string& text) {
  ParseResult r = ParseJsonFrame(text);
  if (!r.frame) FAIL(("rejected: " + text + " -> " + r.rejection->detail).c_str());
  return *r.frame;
}

RejectReason Rejected(const std::string& text) {
  ParseResult r = ParseJsonFrame(text);
  if (r.frame) FAIL(("accepted: " + text).c_str());
  CHECK(r.rejection.has_value());
  CHECK(!r.rejection->detail.empty());
  return r.rejection->reason;
}

void CheckReading(const RawFrame& f, size_t i, const char* metric, double value) {
  CHECK(i < f.readings.size());
  STRCMP_EQUAL(metric, f.readings[i].metric.c_str());
  DOUBLES_EQUAL(value, f.readings[i].value, 0.0);
}

}  // namespace

TEST_GROUP(JsonFrame){};

TEST(JsonFrame, NumbersBecomeReadingsInOrder) {
  RawFrame f = Accepted(R"({"temperature":22.5,"humidity":55,"delta":-3})");
  LONGS_EQUAL(3, f.readings.size());
  CheckReading(f, 0, "temperature", 22.5);
  CheckReading(f, 1, "humidity", 55);
  CheckReading(f, 2, "delta", -3);
  CHECK_FALSE(f.device.has_value());
  CHECK_FALSE(f.ts.has_value());
  CHECK_FALSE(f.seq.has_value());
  LONGS_EQUAL(0, f.fields_ignored);
}

TEST(JsonFrame, BooleansBecomeOneAndZero) {
  RawFrame f = Accepted(R"({"pump":true,"door":false})");
  CheckReading(f, 0, "pump", 1);
  CheckReading(f, 1, "door", 0);
}

TEST(JsonFrame, NestedObjectsAreFlattenedWithDots) {
  RawFrame f = Accepted(R"({"dc":{"v1":230,"inner":{"x":1}},"y":2})");
  LONGS_EQUAL(3, f.readings.size());
  CheckReading(f, 0, "dc.v1", 230);
  CheckReading(f, 1, "dc.inner.x", 1);
  CheckReading(f, 2, "y", 2);
}

TEST(JsonFrame, StringsNullsAndArraysAreIgnoredAndCounted) {
  RawFrame f = Accepted(R"({"unit":"C","note":null,"list":[1,{"a":2},[3]],"t":1,"o":{"s":"x"}})");
  LONGS_EQUAL(1, f.readings.size());
  CheckReading(f, 0, "t", 1);
  LONGS_EQUAL(4, f.fields_ignored);  // unit, note, list (one field), o.s
}

TEST(JsonFrame, ReservedKeysAreNotReadings) {
  RawFrame f = Accepted(R"({"device":"uno-1","ts":1700000000,"seq":42,"v":1})");
  STRCMP_EQUAL("uno-1", f.device->c_str());
  LONGLONGS_EQUAL(1'700'000'000'000'000LL, *f.ts);
  LONGS_EQUAL(42, *f.seq);
  LONGS_EQUAL(1, f.readings.size());
}

TEST(JsonFrame, NestedKeysNamedLikeReservedOnesAreReadings) {
  RawFrame f = Accepted(R"({"gps":{"ts":5,"seq":6}})");
  LONGS_EQUAL(2, f.readings.size());
  CheckReading(f, 0, "gps.ts", 5);
  CHECK_FALSE(f.ts.has_value());
}

TEST(JsonFrame, NumericTsUnitDependsOnMagnitudeAndRoundsToMicroseconds) {
  LONGLONGS_EQUAL(1'700'000'000'000'000LL, *Accepted(R"({"ts":1700000000,"v":1})").ts);
  LONGLONGS_EQUAL(1'700'000'000'123'000LL, *Accepted(R"({"ts":1700000000123,"v":1})").ts);
  LONGLONGS_EQUAL(1'700'000'000'123'456LL, *Accepted(R"({"ts":1700000000123456,"v":1})").ts);
  LONGLONGS_EQUAL(1'700'000'000'250'000LL, *Accepted(R"({"ts":1700000000.25,"v":1})").ts);
  LONGLONGS_EQUAL(1'700'000'000'000'001LL, *Accepted(R"({"ts":1700000000.0000007,"v":1})").ts);
}

TEST(JsonFrame, Rfc3339TsIsAccepted) {
  RawFrame f = Accepted(R"({"ts":"2026-11-22T10:15:30.5+01:00","v":1})");
  auto expected = fieldsync::core::ParseRfc3339("2026-11-22T09:15:30.5Z");
  LONGLONGS_EQUAL(*expected, *f.ts);
}

TEST(JsonFrame, BadTsIsBadTs) {
  LONGS_EQUAL(RejectReason::kBadTs, Rejected(R"({"ts":"yesterday","v":1})"));
  LONGS_EQUAL(RejectReason::kBadTs, Rejected(R"({"ts":true,"v":1})"));
  LONGS_EQUAL(RejectReason::kBadTs, Rejected(R"({"ts":null,"v":1})"));
  LONGS_EQUAL(RejectReason::kBadTs, Rejected(R"({"ts":{"s":1},"v":1})"));
  LONGS_EQUAL(RejectReason::kBadTs, Rejected(R"({"ts":1e300,"v":1})"));
}

TEST(JsonFrame, SeqMustBeAnUnsigned32BitInteger) {
  LONGLONGS_EQUAL(4294967295LL, *Accepted(R"({"seq":4294967295,"v":1})").seq);
  LONGS_EQUAL(RejectReason::kBadValue, Rejected(R"({"seq":4294967296,"v":1})"));
  LONGS_EQUAL(RejectReason::kBadValue, Rejected(R"({"seq":-1,"v":1})"));
  LONGS_EQUAL(RejectReason::kBadValue, Rejected(R"({"seq":1.5,"v":1})"));
  LONGS_EQUAL(RejectReason::kBadValue, Rejected(R"({"seq":"7","v":1})"));
}

TEST(JsonFrame, DeviceMustBeANonEmptyString) {
  LONGS_EQUAL(RejectReason::kBadName, Rejected(R"({"device":5,"v":1})"));
  LONGS_EQUAL(RejectReason::kBadName, Rejected(R"({"device":"","v":1})"));
  LONGS_EQUAL(RejectReason::kBadName, Rejected(R"({"device":["a"],"v":1})"));
}

TEST(JsonFrame, RepeatedKeyAtAnyLevelIsParse) {
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({"v":1,"v":2})"));
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({"v":1,"v":"x"})"));
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({"dc":{"v1":1,"v1":2}})"));
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({"ts":1700000000,"ts":1700000001,"v":1})"));
  // Two spellings that flatten to the same metric.
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({"a.b":1,"a":{"b":2}})"));
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({"a":{"b":2},"a.b":1})"));
  // The same key in sibling objects is no repeat.
  RawFrame f = Accepted(R"({"a":{"v":1},"b":{"v":2}})");
  LONGS_EQUAL(2, f.readings.size());
}

TEST(JsonFrame, AnythingButOneObjectIsParse) {
  LONGS_EQUAL(RejectReason::kParse, Rejected("[1,2]"));
  LONGS_EQUAL(RejectReason::kParse, Rejected("42"));
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"("text")"));
  LONGS_EQUAL(RejectReason::kParse, Rejected("null"));
  LONGS_EQUAL(RejectReason::kParse, Rejected(""));
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({"v":1)"));
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({"v":1} {"w":2})"));
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({"v":1}x)"));
  LONGS_EQUAL(RejectReason::kParse, Rejected(R"({v:1})"));
  LONGS_EQUAL(RejectReason::kParse, Rejected("{\"v\":\xff}"));
}

TEST(JsonFrame, EmptyKeyIsBadName) {
  LONGS_EQUAL(RejectReason::kBadName, Rejected(R"({"":1})"));
  LONGS_EQUAL(RejectReason::kBadName, Rejected(R"({"a":{"":1}})"));
}

TEST(JsonFrame, DeepNestingIsRefusedWithoutRecursion) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 40; ++i) deep += "}";
  LONGS_EQUAL(RejectReason::kParse, Rejected(deep));

  std::string arrays = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  RawFrame f = Accepted(arrays);
  LONGS_EQUAL(1, f.fields_ignored);
}

TEST(JsonFrame, EmptyObjectParsesWithNoReadings) {
  RawFrame f = Accepted("{}");
  LONGS_EQUAL(0, f.readings.size());
  f = Accepted(R"({"dc":{}})");
  LONGS_EQUAL(0, f.readings.size());
}
