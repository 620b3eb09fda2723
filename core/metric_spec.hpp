#pragma once
// How one metric is treated: counter or gauge, calibration, and its condition profile (§4, §6).

#include <optional>
#include <string>

namespace fieldsync::core {

enum class MetricKind : unsigned char { kGauge, kCounter };

// Optimal range [lo, hi] and critical bounds: a reading is optimal when lo <= v <= hi and
// critical when v < critical_lo or v > critical_hi.
struct ConditionProfile {
  double optimal_lo = 0.0;
  double optimal_hi = 0.0;
  double critical_lo = 0.0;
  double critical_hi = 0.0;

  friend bool operator==(const ConditionProfile&, const ConditionProfile&) = default;
};

// Critical bounds from the margin rule of §4: [lo − m·|lo|, hi + m·|hi|].
ConditionProfile ProfileFromMargin(double lo, double hi, double margin);

struct MetricSpec {
  MetricKind kind = MetricKind::kGauge;
  std::string unit;
  std::optional<ConditionProfile> profile;  // unset: optimal/critical percentages are null
  double scale = 1.0;                       // stored value = raw * scale + offset
  double offset = 0.0;
  double jitter = 0.0;  // counters: a drop smaller than this is no reset
};

}  // namespace fieldsync::core
