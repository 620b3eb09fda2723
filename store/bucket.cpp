#include "store/bucket.hpp"

namespace fieldsync::store {

Condition Classify(const core::ConditionProfile& profile, double value) {
  return Condition{profile.optimal_lo <= value && value <= profile.optimal_hi,
                   value < profile.critical_lo || value > profile.critical_hi};
}

std::optional<double> BucketStats::avg() const {
  if (n == 0) return std::nullopt;
  return sum / static_cast<double>(n);
}

std::optional<double> BucketStats::optimal_pct() const {
  if (!optimal_n || n == 0) return std::nullopt;
  return 100.0 * static_cast<double>(*optimal_n) / static_cast<double>(n);
}

std::optional<double> BucketStats::critical_pct() const {
  if (!critical_n || n == 0) return std::nullopt;
  return 100.0 * static_cast<double>(*critical_n) / static_cast<double>(n);
}

void AddReading(BucketStats& bucket, core::TimeUs ts, double value, const core::MetricSpec& spec) {
  if (bucket.n == 0) {
    bucket.min = bucket.max = value;
  } else {
    if (value < bucket.min) bucket.min = value;
    if (value > bucket.max) bucket.max = value;
  }
  if (bucket.n == 0 || ts > bucket.last_ts) {
    bucket.last = value;
    bucket.last_ts = ts;
  }
  bucket.n += 1;
  bucket.sum += value;
  if (spec.kind == core::MetricKind::kCounter && !bucket.delta) bucket.delta = 0.0;
  if (spec.profile) {
    Condition c = Classify(*spec.profile, value);
    bucket.optimal_n = bucket.optimal_n.value_or(0) + (c.optimal ? 1 : 0);
    bucket.critical_n = bucket.critical_n.value_or(0) + (c.critical ? 1 : 0);
  }
}

void AddDelta(BucketStats& bucket, double delta) {
  bucket.delta = bucket.delta.value_or(0.0) + delta;
}

}  // namespace fieldsync::store
