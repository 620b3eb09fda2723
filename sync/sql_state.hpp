#pragma once
// How a PostgreSQL SQLSTATE maps onto what the sync loop should do (§5 "Errors").

#include <string_view>

#include "core/expected.hpp"

namespace fieldsync::sync {

// The one data error that is expected: a row already at the remote.
inline constexpr std::string_view kSqlStateUniqueViolation = "23505";

// Classes 08 (connection), 40 (transaction rollback), 53 (resources), 57 (operator intervention)
//   -> kUnavailable: retry with backoff, never drop data.
// 23505 (unique violation) -> kConflict, so that callers can fall back to the staged path.
// Classes 22 (data exception) and 23 (integrity) -> kRemoteData: the rows are at fault.
// Anything else (42 syntax/privilege, 0A, 54, XX, unknown or empty) -> kRemoteOther.
core::Errc ErrcForSqlState(std::string_view sqlstate);

}  // namespace fieldsync::sync
