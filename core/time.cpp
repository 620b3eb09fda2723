#include "core/time.hpp"

#include <date/date.h>

#include <cmath>
#include <cstdio>

namespace fieldsync::core {
namespace {

std::int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  return date::sys_days{date::year{y} / date::month{m} / date::day{d}}.time_since_epoch().count();
}

bool ValidCivil(int y, unsigned m, unsigned d) {
  return (date::year{y} / date::month{m} / date::day{d}).ok();
}

// Reads exactly `n` digits at `pos`; advances pos. Returns -1 when they are not all digits.
int ReadDigits(std::string_view s, size_t& pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

Error BadTime(std::string_view text) {
  return MakeError(Errc::kParse, "not an RFC 3339 time: '" + std::string(text.substr(0, 64)) + "'");
}

}  // namespace

std::string FormatRfc3339(TimeUs ts) {
  std::int64_t days = FloorDiv(ts, kMicrosPerDay);
  std::int64_t rem = ts - days * kMicrosPerDay;
  date::year_month_day ymd{date::sys_days{date::days{days}}};
  auto secs = rem / kMicrosPerSecond;
  auto frac = rem % kMicrosPerSecond;
  char buf[64];
  int n =
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld", int{ymd.year()},
                    unsigned{ymd.month()}, unsigned{ymd.day()}, static_cast<long long>(secs / 3600),
                    static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
    out += buf;
  }
  out += 'Z';
  return out;
}

Expected<TimeUs> ParseRfc3339(std::string_view s) {
  size_t pos = 0;
  int y = ReadDigits(s, pos, 4);
  if (y < 0 || pos >= s.size() || s[pos++] != '-') return BadTime(s);
  int mo = ReadDigits(s, pos, 2);
  if (mo < 0 || pos >= s.size() || s[pos++] != '-') return BadTime(s);
  int d = ReadDigits(s, pos, 2);
  if (d < 0 || pos >= s.size()) return BadTime(s);
  char sep = s[pos++];
  if (sep != 'T' && sep != 't' && sep != ' ') return BadTime(s);
  int hh = ReadDigits(s, pos, 2);
  if (hh < 0 || pos >= s.size() || s[pos++] != ':') return BadTime(s);
  int mi = ReadDigits(s, pos, 2);
  if (mi < 0 || pos >= s.size() || s[pos++] != ':') return BadTime(s);
  int ss = ReadDigits(s, pos, 2);
  if (ss < 0) return BadTime(s);
  if (!ValidCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) || hh > 23 || mi > 59 ||
      ss > 60) {
    return BadTime(s);
  }
  if (ss == 60) ss = 59;  // a leap second is held as the last microsecond-free second before it
  TimeUs frac_us = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    size_t start = pos;
    double frac = 0, scale = 0.1;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return BadTime(s);
    frac_us = static_cast<TimeUs>(std::llround(frac * 1e6));
  }
  if (pos >= s.size()) return BadTime(s);
  std::int64_t offset_s = 0;
  char z = s[pos++];
  if (z == 'Z' || z == 'z') {
    // UTC
  } else if (z == '+' || z == '-') {
    int oh = ReadDigits(s, pos, 2);
    if (oh < 0 || pos >= s.size() || s[pos++] != ':') return BadTime(s);
    int om = ReadDigits(s, pos, 2);
    if (om < 0 || oh > 23 || om > 59) return BadTime(s);
    offset_s = (oh * 3600 + om * 60) * (z == '+' ? 1 : -1);
  } else {
    return BadTime(s);
  }
  if (pos != s.size()) return BadTime(s);
  std::int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  std::int64_t secs = days * 86400 + hh * 3600 + mi * 60 + ss - offset_s;
  return secs * kMicrosPerSecond + frac_us;
}

Expected<TimeUs> EpochNumberToUs(double x) {
  if (!std::isfinite(x)) return MakeError(Errc::kInvalidArgument, "timestamp is not finite");
  double ax = std::fabs(x);
  double us = ax < 1e11 ? x * 1e6 : (ax < 1e14 ? x * 1e3 : x);
  // 9.2e18 is the int64 limit; stay clear of it.
  if (std::fabs(us) > 9.0e18) return MakeError(Errc::kInvalidArgument, "timestamp out of range");
  return static_cast<TimeUs>(std::llround(us));
}

Expected<std::int64_t> ParseIsoDate(std::string_view s) {
  size_t pos = 0;
  int y = ReadDigits(s, pos, 4);
  bool ok = y >= 0 && pos < s.size() && s[pos++] == '-';
  int m = ok ? ReadDigits(s, pos, 2) : -1;
  ok = ok && m >= 0 && pos < s.size() && s[pos++] == '-';
  int d = ok ? ReadDigits(s, pos, 2) : -1;
  ok = ok && d >= 0 && pos == s.size() &&
       ValidCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  if (!ok) {
    return MakeError(Errc::kParse,
                     "not a date (YYYY-MM-DD): '" + std::string(s.substr(0, 32)) + "'");
  }
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::string FormatIsoDate(std::int64_t days_since_epoch) {
  date::year_month_day ymd{date::sys_days{date::days{days_since_epoch}}};
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int{ymd.year()}, unsigned{ymd.month()},
                        unsigned{ymd.day()});
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace fieldsync::core
