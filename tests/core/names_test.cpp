#include "core/names.hpp"

#include <CppUTest/TestHarness.h>

#include <string>

using namespace fieldsync::core;

TEST_GROUP(Names){};

TEST(Names, DeviceAllowsColonMetricDoesNot) {
  CHECK(IsValidDevice("arduino_1:a-b.c"));
  CHECK_FALSE(IsValidMetric("a:b"));
  CHECK(IsValidMetric("dc.v1"));
}

TEST(Names, LengthIsOneToSixtyFour) {
  CHECK_FALSE(IsValidDevice(""));
  CHECK(IsValidDevice(std::string(64, 'x')));
  CHECK_FALSE(IsValidDevice(std::string(65, 'x')));
  CHECK_FALSE(IsValidMetric(std::string(65, 'x')));
}

TEST(Names, RejectsSpacesSlashesAndNonAscii) {
  CHECK_FALSE(IsValidDevice("a b"));
  CHECK_FALSE(IsValidDevice("a/b"));
  CHECK_FALSE(IsValidMetric("temp\xC3\xA9"));
  CHECK_FALSE(IsValidSqlIdentifier("1abc"));
  CHECK_FALSE(IsValidSqlIdentifier("a;drop"));
  CHECK(IsValidSqlIdentifier("fieldsync"));
}
