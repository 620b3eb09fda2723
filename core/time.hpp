#pragma once
// Time as fieldsync holds it: a signed 64-bit count of microseconds. Never time_t, which is
// 32-bit on armhf and ends in 2038.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace fieldsync::core {

using TimeUs = std::int64_t;  // microseconds since 1970-01-01T00:00:00Z (UTC, no leap seconds)

constexpr TimeUs kMicrosPerSecond = 1'000'000;
constexpr TimeUs kMicrosPerHour = 3'600 * kMicrosPerSecond;
constexpr TimeUs kMicrosPerDay = 24 * kMicrosPerHour;
constexpr TimeUs kYear2000Us = 946'684'800 * kMicrosPerSecond;  // 2000-01-01T00:00:00Z

// "2026-11-22T10:15:30.123456Z"; the fraction is omitted when it is zero.
std::string FormatRfc3339(TimeUs ts);

// Parses RFC 3339 ("2026-11-22T10:15:30Z", "...30.5+01:00", "...30,5z", space instead of T).
// Fractions beyond microseconds are rounded to the nearest microsecond.
Expected<TimeUs> ParseRfc3339(std::string_view text);

// Interprets a numeric frame timestamp (§1): |x| < 1e11 seconds, < 1e14 milliseconds,
// else microseconds; rounded to the nearest microsecond. Fails on NaN/Inf or int64 overflow.
Expected<TimeUs> EpochNumberToUs(double x);

// Parses "YYYY-MM-DD" into days since 1970-01-01.
Expected<std::int64_t> ParseIsoDate(std::string_view text);
std::string FormatIsoDate(std::int64_t days_since_epoch);

// Floor division for bucketing negative and positive times alike.
constexpr std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace fieldsync::core
