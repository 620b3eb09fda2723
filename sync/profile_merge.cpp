#include "sync/profile_merge.hpp"

#include <algorithm>

namespace fieldsync::sync {

core::ConditionProfile ResolveFetchedRow(const FetchedProfileRow& row, double margin) {
  core::ConditionProfile p = core::ProfileFromMargin(row.optimal_lo, row.optimal_hi, margin);
  if (row.critical_lo) p.critical_lo = *row.critical_lo;
  if (row.critical_hi) p.critical_hi = *row.critical_hi;
  return p;
}

std::map<std::string, core::ConditionProfile> MergeFetchedProfiles(
    const std::vector<FetchedProfileRow>& rows, const std::map<std::string, double>& margins) {
  std::map<std::string, core::ConditionProfile> merged;
  for (const auto& row : rows) {
    auto margin = margins.find(row.metric);
    const core::ConditionProfile p = ResolveFetchedRow(
        row, margin == margins.end() ? kDefaultFetchedCriticalMargin : margin->second);
    auto [it, inserted] = merged.emplace(row.metric, p);
    if (inserted) continue;
    core::ConditionProfile& m = it->second;
    m.optimal_lo = std::min(m.optimal_lo, p.optimal_lo);
    m.optimal_hi = std::max(m.optimal_hi, p.optimal_hi);
    m.critical_lo = std::min(m.critical_lo, p.critical_lo);
    m.critical_hi = std::max(m.critical_hi, p.critical_hi);
  }
  return merged;
}

std::map<std::string, core::MetricSpec> MergeMetricSpecs(
    const std::map<std::string, core::MetricSpec>& configured,
    const std::map<std::string, core::ConditionProfile>& fetched) {
  std::map<std::string, core::MetricSpec> specs = configured;
  for (const auto& [metric, profile] : fetched) {
    core::MetricSpec& spec = specs[metric];  // absent from the config: a gauge
    if (!spec.profile) spec.profile = profile;
  }
  return specs;
}

}  // namespace fieldsync::sync
