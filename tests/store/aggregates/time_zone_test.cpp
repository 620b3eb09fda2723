#include "store/time_zone.hpp"

#include <CppUTest/TestHarness.h>

#include "core/time.hpp"

using namespace fieldsync;
using core::kMicrosPerHour;
using store::TimeZone;

namespace {

TimeZone Zone(const char* name) {
  auto z = TimeZone::FromName(name);
  CHECK_TRUE(z.has_value());
  return *z;
}

std::int64_t Day(const char* iso) { return *core::ParseIsoDate(iso); }
core::TimeUs At(const char* rfc3339) { return *core::ParseRfc3339(rfc3339); }

// The tz database and each zone's rules load once per process and stay until exit; load them
// before CppUTest starts counting allocations so that they are not reported as leaks.
const bool kZonesLoaded = [] {
  for (const char* name : {"UTC", "Europe/Berlin", "Asia/Kolkata", "America/Santiago",
                           "America/New_York", "Australia/Lord_Howe"}) {
    (void)TimeZone::FromName(name);
  }
  return true;
}();

}  // namespace

TEST_GROUP(TimeZone){};

TEST(TimeZone, UnknownNameIsAnInvalidArgumentNamingTheZone) {
  auto z = TimeZone::FromName("Mars/Olympus_Mons");
  CHECK_FALSE(z.has_value());
  CHECK(z.error().code == core::Errc::kInvalidArgument);
  CHECK(z.error().message.find("Mars/Olympus_Mons") != std::string::npos);
}

TEST(TimeZone, UtcDaysAreWholeUtcDays) {
  TimeZone utc = Zone("UTC");
  STRCMP_EQUAL("UTC", utc.name().c_str());
  LONGLONGS_EQUAL(At("2026-11-22T00:00:00Z"), utc.DayStart(Day("2026-11-22")));
  LONGLONGS_EQUAL(24 * kMicrosPerHour,
                  utc.DayEnd(Day("2026-11-22")) - utc.DayStart(Day("2026-11-22")));
  LONGLONGS_EQUAL(Day("2026-11-21"), utc.LocalDay(At("2026-11-22T00:00:00Z") - 1));
  LONGLONGS_EQUAL(Day("2026-11-22"), utc.LocalDay(At("2026-11-22T00:00:00Z")));
}

TEST(TimeZone, BerlinSpringForwardDayHas23Hours) {
  TimeZone berlin = Zone("Europe/Berlin");
  std::int64_t d = Day("2026-03-29");
  LONGLONGS_EQUAL(At("2026-03-28T23:00:00Z"), berlin.DayStart(d));  // CET midnight
  LONGLONGS_EQUAL(At("2026-03-29T22:00:00Z"), berlin.DayEnd(d));    // CEST midnight
  LONGLONGS_EQUAL(23 * kMicrosPerHour, berlin.DayEnd(d) - berlin.DayStart(d));
}

TEST(TimeZone, BerlinFallBackDayHas25Hours) {
  TimeZone berlin = Zone("Europe/Berlin");
  std::int64_t d = Day("2026-10-25");
  LONGLONGS_EQUAL(At("2026-10-24T22:00:00Z"), berlin.DayStart(d));
  LONGLONGS_EQUAL(At("2026-10-25T23:00:00Z"), berlin.DayEnd(d));
  LONGLONGS_EQUAL(25 * kMicrosPerHour, berlin.DayEnd(d) - berlin.DayStart(d));
  // Both passes through 02:30 local belong to the same day.
  LONGLONGS_EQUAL(d, berlin.LocalDay(At("2026-10-25T00:30:00Z")));
  LONGLONGS_EQUAL(d, berlin.LocalDay(At("2026-10-25T01:30:00Z")));
}

TEST(TimeZone, KolkataDayStartsOnTheHalfHour) {
  TimeZone kolkata = Zone("Asia/Kolkata");
  std::int64_t d = Day("2026-11-22");
  LONGLONGS_EQUAL(At("2026-11-21T18:30:00Z"), kolkata.DayStart(d));
  LONGLONGS_EQUAL(24 * kMicrosPerHour, kolkata.DayEnd(d) - kolkata.DayStart(d));
  LONGLONGS_EQUAL(d - 1, kolkata.LocalDay(At("2026-11-21T18:29:59.999999Z")));
  LONGLONGS_EQUAL(d, kolkata.LocalDay(At("2026-11-21T18:30:00Z")));
}

TEST(TimeZone, SkippedMidnightStartsTheDayAtTheJump) {
  // Santiago springs forward at local midnight: 2026-09-06 00:00 -04 does not exist.
  TimeZone santiago = Zone("America/Santiago");
  std::int64_t d = Day("2026-09-06");
  core::TimeUs start = santiago.DayStart(d);
  LONGLONGS_EQUAL(At("2026-09-06T04:00:00Z"), start);
  LONGLONGS_EQUAL(d, santiago.LocalDay(start));
  LONGLONGS_EQUAL(d - 1, santiago.LocalDay(start - 1));
  LONGLONGS_EQUAL(23 * kMicrosPerHour, santiago.DayEnd(d) - start);
}

TEST(TimeZone, DayStartAndLocalDayAgreeAcrossAYear) {
  for (const char* name :
       {"Europe/Berlin", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"}) {
    TimeZone z = Zone(name);
    for (std::int64_t d = Day("2026-01-01"); d < Day("2027-01-01"); ++d) {
      core::TimeUs start = z.DayStart(d);
      LONGLONGS_EQUAL(d, z.LocalDay(start));
      LONGLONGS_EQUAL(d - 1, z.LocalDay(start - 1));
      CHECK(z.DayEnd(d) - start >= 23 * kMicrosPerHour);
      CHECK(z.DayEnd(d) - start <= 25 * kMicrosPerHour);
    }
  }
}
