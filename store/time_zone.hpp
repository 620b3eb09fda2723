#pragma once
// TimeZone: an IANA zone from the system's tz database (/usr/share/zoneinfo), used to cut daily
// buckets at local midnight (§4). A DST day has 23 or 25 hours and a half-hour zone's day does not
// start on a UTC hour, so a day is always handled as a [start, end) range of UTC instants.
// A TimeZone is a small value (a pointer into the process-wide tz database, which lives until
// exit); copying it is cheap and it may be used from any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/expected.hpp"
#include "core/time.hpp"

namespace date {
class time_zone;
}

namespace fieldsync::store {

class TimeZone {
 public:
  // Looks the zone up by its IANA name ("Europe/Berlin", "UTC"). Unknown name, or no readable tz
  // database: kInvalidArgument naming the zone.
  static core::Expected<TimeZone> FromName(std::string_view name);

  const std::string& name() const;

  // The local calendar date of `ts`, as days since 1970-01-01.
  std::int64_t LocalDay(core::TimeUs ts) const;

  // The first UTC instant whose local date is `day` (local midnight; when midnight is skipped
  // by a DST jump, the instant of the jump). Invariant: LocalDay(DayStart(d)) == d and
  // LocalDay(DayStart(d) - 1) == d - 1.
  core::TimeUs DayStart(std::int64_t day) const;
  // One past the last instant of `day`: DayStart(day + 1).
  core::TimeUs DayEnd(std::int64_t day) const { return DayStart(day + 1); }

  friend bool operator==(const TimeZone& a, const TimeZone& b) { return a.zone_ == b.zone_; }

 private:
  explicit TimeZone(const date::time_zone* zone) : zone_(zone) {}
  const date::time_zone* zone_;  // never null; owned by the tz database
};

}  // namespace fieldsync::store
