#include "drivers/kv_frame.hpp"

#include <cmath>
#include <string>

#include <CppUTest/TestHarness.h>

using namespace fieldsync::drivers;
using fieldsync::core::RejectReason;

namespace {

RawFrame Accepted(const std::string& text) {
  ParseResult r = ParseKvFrame(text);
  if (!r.frame) FAIL(("rejected: " + text + " -> " + r.rejection->detail).c_str());
  return *r.frame;
}

RejectReason Rejected(const std::string& text) {
  ParseResult r = ParseKvFrame(text);
  if (r.frame) FAIL(("accepted: " + text).c_str());
  return r.rejection->reason;
}

void CheckReading(const RawFrame& f, size_t i, const char* metric, double value) {
  CHECK(i < f.readings.size());
  STRCMP_EQUAL(metric, f.readings[i].metric.c_str());
  DOUBLES_EQUAL(value, f.readings[i].value, 0.0);
}

}  // namespace

TEST_GROUP(KvFrame){};

TEST(KvFrame, CommaSeparatedEquals) {
  RawFrame f = Accepted("temperature=22.5,humidity=55");
  LONGS_EQUAL(2, f.readings.size());
  CheckReading(f, 0, "temperature", 22.5);
  CheckReading(f, 1, "humidity", 55);
}

TEST(KvFrame, ArduinoStyleWithSpacesAroundEquals) {
  RawFrame f = Accepted("sensor = 512\t output = 127");
  LONGS_EQUAL(2, f.readings.size());
  CheckReading(f, 0, "sensor", 512);
  CheckReading(f, 1, "output", 127);
}

TEST(KvFrame, ArduinoStyleWithColons) {
  RawFrame f = Accepted("Temperature: 22.5, Humidity: 55");
  LONGS_EQUAL(2, f.readings.size());
  CheckReading(f, 0, "Temperature", 22.5);
  CheckReading(f, 1, "Humidity", 55);
}

TEST(KvFrame, EverySeparatorWorks) {
  RawFrame f = Accepted("a=1;b=2\tc=3 d=4,e:5 ;, f =6");
  LONGS_EQUAL(6, f.readings.size());
  CheckReading(f, 5, "f", 6);
}

TEST(KvFrame, NumbersInCommonSpellings) {
  RawFrame f = Accepted("a=+1.5 b=-2e3 c=.25 d=7.");
  CheckReading(f, 0, "a", 1.5);
  CheckReading(f, 1, "b", -2000);
  CheckReading(f, 2, "c", 0.25);
  CheckReading(f, 3, "d", 7);
}

TEST(KvFrame, ReservedKeys) {
  RawFrame f = Accepted("device=uno-1,ts=2026-11-22T10:15:30Z,seq=7,v=1");
  STRCMP_EQUAL("uno-1", f.device->c_str());
  LONGLONGS_EQUAL(*fieldsync::core::ParseRfc3339("2026-11-22T10:15:30Z"), *f.ts);
  LONGS_EQUAL(7, *f.seq);
  LONGS_EQUAL(1, f.readings.size());
  LONGLONGS_EQUAL(1'700'000'000'123'000LL, *Accepted("ts=1700000000123 v=1").ts);
}

TEST(KvFrame, NonNumericValueIsBadValue) {
  LONGS_EQUAL(RejectReason::kBadValue, Rejected("temperature=warm"));
  LONGS_EQUAL(RejectReason::kBadValue, Rejected("a=1,b=22.5C"));
  LONGS_EQUAL(RejectReason::kBadValue, Rejected("a=0x10"));
  LONGS_EQUAL(RejectReason::kBadValue, Rejected("a=,b=2"));
  LONGS_EQUAL(RejectReason::kBadValue, Rejected("a=1 b="));
  LONGS_EQUAL(RejectReason::kBadValue, Rejected("seq=-1 a=1"));
  LONGS_EQUAL(RejectReason::kBadTs, Rejected("ts=soon a=1"));
}

TEST(KvFrame, NanAndInfParseAsNonFiniteNumbers) {
  RawFrame f = Accepted("a=nan b=inf c=-Infinity d=1e999");
  CHECK(std::isnan(f.readings[0].value));
  CHECK(std::isinf(f.readings[1].value));
  CHECK(std::isinf(f.readings[2].value) && f.readings[2].value < 0);
  CHECK(std::isinf(f.readings[3].value));
}

TEST(KvFrame, TextThatIsNotKeyValueIsParse) {
  LONGS_EQUAL(RejectReason::kParse, Rejected("hello world"));
  LONGS_EQUAL(RejectReason::kParse, Rejected("Temperature: 22.5 C"));
  LONGS_EQUAL(RejectReason::kParse, Rejected("=5"));
  LONGS_EQUAL(RejectReason::kParse, Rejected("a=1,a=2"));
}

TEST(KvFrame, SeparatorsOnlyGiveAnEmptyFrame) {
  RawFrame f = Accepted(" ,; \t");
  LONGS_EQUAL(0, f.readings.size());
}
