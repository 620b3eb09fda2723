#include "store/time_zone.hpp"

#include <date/tz.h>

#include <chrono>
#include <exception>

namespace fieldsync::store {

using Micros = std::chrono::microseconds;

core::Expected<TimeZone> TimeZone::FromName(std::string_view name) {
  // date::locate_zone reports an unknown name (and an unreadable database) by throwing.
  // A zone's rules are read from its file on first use; using it once here makes a broken file
  // fail now, inside this try, instead of throwing later from LocalDay or DayStart.
  try {
    const date::time_zone* zone = date::locate_zone(name);
    (void)zone->get_info(date::sys_seconds{});
    return TimeZone(zone);
  } catch (const std::exception& e) {
    return core::MakeError(core::Errc::kInvalidArgument,
                           "unknown time zone '" + std::string(name) + "': " + e.what());
  }
}

const std::string& TimeZone::name() const { return zone_->name(); }

std::int64_t TimeZone::LocalDay(core::TimeUs ts) const {
  auto local = zone_->to_local(date::sys_time<Micros>{Micros{ts}});
  return date::floor<date::days>(local).time_since_epoch().count();
}

core::TimeUs TimeZone::DayStart(std::int64_t day) const {
  date::local_time<Micros> midnight{date::days{day}};
  // earliest: an ambiguous midnight starts the day at its first occurrence; a skipped one
  // starts it at the transition (date::time_zone returns the jump instant for both choices).
  return zone_->to_sys(midnight, date::choose::earliest).time_since_epoch().count();
}

}  // namespace fieldsync::store
