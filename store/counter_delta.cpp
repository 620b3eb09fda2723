#include "store/counter_delta.hpp"

namespace fieldsync::store {

double CounterStep(double prev, double cur, double jitter) {
  if (cur >= prev) return cur - prev;
  if (prev - cur < jitter) return 0.0;
  return cur;
}

InsertionDeltas DeltasOfInsertion(const std::optional<CounterPoint>& prev, CounterPoint added,
                                  const std::optional<CounterPoint>& next, double jitter) {
  InsertionDeltas out;
  out.own = DeltaChange{added.ts, prev ? CounterStep(prev->value, added.value, jitter) : 0.0};
  if (next) {
    double old_step = prev ? CounterStep(prev->value, next->value, jitter) : 0.0;
    double new_step = CounterStep(added.value, next->value, jitter);
    out.next = DeltaChange{next->ts, new_step - old_step};
  }
  return out;
}

}  // namespace fieldsync::store
