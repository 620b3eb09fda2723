#pragma once
// DeviceRanges: the first and last reading time per device of what one remote transaction
// carries, and the `devices` upsert (§5) that records them. Computed on the gateway while the
// readings stream past, so that the server needs neither a staging table nor a GROUP BY for it.

#include <map>
#include <string>
#include <utility>

#include "core/time.hpp"
#include "sync/pg_connection.hpp"

namespace fieldsync::sync {

class DeviceRanges {
 public:
  void Add(const std::string& device, core::TimeUs ts);
  bool empty() const { return seen_.empty(); }
  void Clear() { seen_.clear(); }

  // INSERT ... ON CONFLICT DO UPDATE of `devices` that widens first_seen/last_seen; devices in
  // name order, so that two transactions lock their rows in the same order. `quoted_schema` is
  // an already quoted identifier.
  PgStatement UpsertStatement(const std::string& quoted_schema, const std::string& gateway) const;

 private:
  std::map<std::string, std::pair<core::TimeUs, core::TimeUs>> seen_;
};

}  // namespace fieldsync::sync
