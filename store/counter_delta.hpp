#pragma once
// Counter deltas (§4): the consumption a counter (energy meter, pulse count) shows between two
// consecutive readings of its series, resets and jitter included. Pure functions, no I/O.

#include <optional>

#include "core/time.hpp"

namespace fieldsync::store {

// The step from `prev` to `cur`: cur - prev when the counter did not go down; 0 when it went down
// by less than `jitter` (measurement noise, no reset); else `cur` (the counter restarted at 0
// and counted up to cur).
double CounterStep(double prev, double cur, double jitter);

struct CounterPoint {
  core::TimeUs ts = 0;
  double value = 0.0;
};

// A change of one bucket's delta, to be added to the bucket holding `ts`.
struct DeltaChange {
  core::TimeUs ts = 0;
  double delta = 0.0;
};

// What inserting `added` between its neighbours in ts order does to the deltas: its own step
// (prev -> added; 0 when it is the series' first reading) goes to its bucket, and the step that
// the next reading had (prev -> next, or 0 when next was the first) is replaced by
// added -> next in next's bucket. Out-of-order arrival thus yields the same deltas as in-order.
// REQUIRES: prev->ts < added.ts < next->ts where given.
struct InsertionDeltas {
  DeltaChange own;
  std::optional<DeltaChange> next;
};
InsertionDeltas DeltasOfInsertion(const std::optional<CounterPoint>& prev, CounterPoint added,
                                  const std::optional<CounterPoint>& next, double jitter);

}  // namespace fieldsync::store
