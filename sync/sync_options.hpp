#pragma once
// Options of the remote sync (§5, §6).

#include <cstdint>
#include <string>

namespace fieldsync::sync {

struct SyncOptions {
  std::string url;  // secret: libpq URL or key=value string; "" = local only; never logged
  std::string schema = "fieldsync";
  std::int64_t batch_size = 5000;
  std::int64_t interval_s = 5;
  std::int64_t max_backoff_s = 300;
  std::int64_t op_timeout_s = 30;
};

}  // namespace fieldsync::sync
