#include "drivers/nmea_checksum.hpp"

#include <string>

#include <CppUTest/TestHarness.h>

using namespace fieldsync::drivers;

TEST_GROUP(NmeaChecksum){};

TEST(NmeaChecksum, XorOfEveryByteBeforeTheStar) {
  // 'a' ^ '=' ^ '1' = 0x61 ^ 0x3D ^ 0x31 = 0x6D
  LONGS_EQUAL(0x6D, NmeaXor("a=1"));
  auto body = StripNmeaChecksum("a=1*6D");
  CHECK(body.has_value());
  STRCMP_EQUAL("a=1", std::string(*body).c_str());
  CHECK(StripNmeaChecksum("a=1*6d").has_value());  // lower-case hex
}

TEST(NmeaChecksum, LeadingDollarIsPartOfTheSum) {
  std::string line = AppendNmeaChecksum("$t=1");
  CHECK(StripNmeaChecksum(line).has_value());
  CHECK_FALSE(StripNmeaChecksum("$" + AppendNmeaChecksum("t=1")).has_value());
}

TEST(NmeaChecksum, RejectsWrongMissingOrMalformedSums) {
  CHECK_FALSE(StripNmeaChecksum("a=1*6E").has_value());   // wrong
  CHECK_FALSE(StripNmeaChecksum("a=1").has_value());      // missing
  CHECK_FALSE(StripNmeaChecksum("a=1*6").has_value());    // one digit
  CHECK_FALSE(StripNmeaChecksum("a=1*G0").has_value());   // not hex
  CHECK_FALSE(StripNmeaChecksum("a=1*6D ").has_value());  // not at the end
  CHECK_FALSE(StripNmeaChecksum("").has_value());
}

TEST(NmeaChecksum, EmptyBodyHasSumZero) {
  auto body = StripNmeaChecksum("*00");
  CHECK(body.has_value());
  CHECK(body->empty());
}
