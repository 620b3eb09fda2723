#pragma once
// Condition profiles fetched from the central database (§4, `[aggregate] profiles_query`), and how
// they combine with the configured metrics. Pure functions: no I/O, no clock.
//
//   rows -> MergeFetchedProfiles: each row's missing critical bound is resolved with the margin
//           rule (the metric's margin, else 0.20), then all rows of one metric merge to the widest
//           range: min of the lows, max of the highs, for the optimal and the critical bounds;
//   fetched + config -> MergeMetricSpecs: the config file overrides a fetched profile field by
//           field. A configured profile always carries all four bounds (config loading resolves
//           `critical` or the margin), so a metric with a profile in the config keeps it whole;
//           a configured metric without one takes the fetched profile and keeps its kind, unit,
//           calibration and jitter; a fetched metric absent from the config becomes a gauge with
//           that profile.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/metric_spec.hpp"

namespace fieldsync::sync {

inline constexpr double kDefaultFetchedCriticalMargin = 0.20;

// One row of the profiles query: (metric, optimal_lo, optimal_hi, critical_lo, critical_hi).
struct FetchedProfileRow {
  std::string metric;
  double optimal_lo = 0.0;
  double optimal_hi = 0.0;
  std::optional<double> critical_lo;  // null: lo − m·|lo|
  std::optional<double> critical_hi;  // null: hi + m·|hi|
};

// Resolves one row; `margin` applies only to the null bounds.
core::ConditionProfile ResolveFetchedRow(const FetchedProfileRow& row, double margin);

// Metric -> its widest profile. `margins` gives a metric's critical_margin; others use 0.20.
std::map<std::string, core::ConditionProfile> MergeFetchedProfiles(
    const std::vector<FetchedProfileRow>& rows, const std::map<std::string, double>& margins = {});

// The metric specs the aggregation and the `metrics` upload use: `configured` with the fetched
// profiles filled in where the config gives none.
std::map<std::string, core::MetricSpec> MergeMetricSpecs(
    const std::map<std::string, core::MetricSpec>& configured,
    const std::map<std::string, core::ConditionProfile>& fetched);

}  // namespace fieldsync::sync
