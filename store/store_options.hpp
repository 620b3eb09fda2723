#pragma once
// Options of the local store (§3, §4, §6).

#include <cstdint>
#include <map>
#include <string>

#include "core/metric_spec.hpp"

namespace fieldsync::store {

enum class OnFull : unsigned char { kDropOldest, kRejectNew };
enum class Synchronous : unsigned char { kFull, kNormal };

struct StoreOptions {
  std::int64_t max_mb = 1024;
  OnFull on_full = OnFull::kDropOldest;
  Synchronous synchronous = Synchronous::kFull;
  // Page cache of this connection (not a configuration key: each user of the store picks what
  // its access pattern needs; the uploader walks the outbox in order and needs little).
  std::int64_t cache_kib = 2048;
};

struct AggregateOptions {
  std::string timezone = "UTC";  // IANA name; daily buckets are calendar days here
  std::int64_t late_window_s = 3600;
  std::int64_t hourly_retention_days = 90;
  std::int64_t daily_retention_days = 730;
  std::string profiles_query;  // SQL run on the remote; "" = none
  std::int64_t profiles_refresh_s = 3600;
};

}  // namespace fieldsync::store
