#pragma once
// The local tables of the aggregates (§4), next to the store's own `series` and `readings`:
//   agg_window   per series: (ts, value) of the readings inside the late window (its newest row
//                is the series' newest aggregated reading, the window's reference), plus the
//                newest reading before the window (the anchor a late counter reading needs as
//                its predecessor), kept whether or not the raw reading was uploaded and deleted
//   agg_hourly   one row per series and UTC hour;  agg_daily  one per series and local day
//   agg_removed  per series and UTC quarter hour: raw readings deleted from `readings` (by upload
//                or drop_oldest), counted by a trigger; a bucket is recomputed from raw readings
//                only when none of its readings was removed (all quarter-hours are whole in every
//                zone's day, since UTC offsets are multiples of 15 minutes)
//   agg_state    per series: removed_through, the latest quarter whose agg_removed count was
//                pruned by retention (still "something was removed up to here")
// Bucket rows carry `version` (bumped on every change) and `uploaded_version` (the version the
// remote has): a row is pending upload while version > uploaded_version.

#include "core/expected.hpp"
#include "core/time.hpp"
#include "store/sqlite.hpp"

namespace fieldsync::store {

// Creates the aggregate tables and the removal trigger if they are missing (idempotent).
// REQUIRES: the store's schema (series, readings, counters) exists. Runs inside the caller's
// transaction if one is open.
core::Status EnsureAggregateSchema(Database& db);

inline constexpr core::TimeUs kRemovalQuarterUs = 15 * 60 * core::kMicrosPerSecond;

}  // namespace fieldsync::store
