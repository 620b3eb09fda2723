#pragma once
// Runs `[aggregate] profiles_query` on the remote and reads its rows (§4): columns metric,
// optimal_lo, optimal_hi, critical_lo, critical_hi, in that order (names do not matter).
// A row whose metric is not a valid name, whose optimal bounds are null, not numbers or reversed
// (lo > hi), or whose critical bounds do not enclose them, is left out and counted: one bad row
// at the central database must not take the others away.
// Not thread-safe (the PgConnection's rules).

#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "sync/pg_connection.hpp"
#include "sync/profile_merge.hpp"

namespace fieldsync::sync {

struct FetchedProfiles {
  std::vector<FetchedProfileRow> rows;
  std::int64_t rows_ignored = 0;
  std::string first_ignored;  // why the first ignored row was left out
};

// kInvalidArgument when the query does not return five columns; the connection's errors as they
// are (kUnavailable, kTimeout, server errors with their SQLSTATE class).
core::Expected<FetchedProfiles> FetchProfiles(PgConnection& conn, const std::string& query);

}  // namespace fieldsync::sync
