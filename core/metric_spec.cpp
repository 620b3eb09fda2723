#include "core/metric_spec.hpp"

#include <cmath>

namespace fieldsync::core {

ConditionProfile ProfileFromMargin(double lo, double hi, double margin) {
  return ConditionProfile{lo, hi, lo - margin * std::fabs(lo), hi + margin * std::fabs(hi)};
}

}  // namespace fieldsync::core
