#include "sync/device_ranges.hpp"

#include <algorithm>
#include <string_view>

namespace fieldsync::sync {
namespace {

// One element of a PostgreSQL array literal, always double-quoted.
std::string ArrayElement(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

void DeviceRanges::Add(const std::string& device, core::TimeUs ts) {
  auto [it, fresh] = seen_.try_emplace(device, ts, ts);
  if (!fresh) {
    it->second.first = std::min(it->second.first, ts);
    it->second.second = std::max(it->second.second, ts);
  }
}

PgStatement DeviceRanges::UpsertStatement(const std::string& quoted_schema,
                                          const std::string& gateway) const {
  std::string devices = "{", first = "{", last = "{";
  for (const auto& [device, range] : seen_) {
    const char* sep = devices.size() > 1 ? "," : "";
    devices += sep + ArrayElement(device);
    first += sep + ArrayElement(core::FormatRfc3339(range.first));
    last += sep + ArrayElement(core::FormatRfc3339(range.second));
  }
  devices += "}";
  first += "}";
  last += "}";
  return {"INSERT INTO " + quoted_schema +
              ".devices AS d (gateway, device, first_seen, last_seen) "
              "SELECT $1, t.device, t.first_seen, t.last_seen "
              "FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) "
              "AS t(device, first_seen, last_seen) "
              "ON CONFLICT (gateway, device) DO UPDATE SET "
              "first_seen = LEAST(d.first_seen, EXCLUDED.first_seen), "
              "last_seen = GREATEST(d.last_seen, EXCLUDED.last_seen)",
          {gateway, devices, first, last}};
}

}  // namespace fieldsync::sync
