#pragma once
// Moving BucketStats in and out of the bucket tables' statistics columns, in their table order:
// n, sum_v, min_v, max_v, last_v, last_ts, delta, optimal_n, critical_n (nine columns).
// Internal to the aggregate code of the store.

#include "core/expected.hpp"
#include "store/bucket.hpp"
#include "store/sqlite.hpp"

namespace fieldsync::store {

inline constexpr int kStatsColumns = 9;

// Binds the nine statistics to parameters first_index .. first_index + 8.
core::Status BindStats(Statement& stmt, int first_index, const BucketStats& stats);
// Reads the nine statistics from columns first_column .. first_column + 8.
BucketStats ReadStats(const Statement& stmt, int first_column);
// Equal counts, timestamps and nullness, and values equal up to floating-point rounding (a
// bucket maintained step by step sums in another order than one computed at once).
bool SameStats(const BucketStats& a, const BucketStats& b);

core::Status BindOptional(Statement& stmt, int index, const std::optional<double>& value);
core::Status BindOptional(Statement& stmt, int index, const std::optional<std::int64_t>& value);

}  // namespace fieldsync::store
