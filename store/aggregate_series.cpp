#include "store/aggregate_series.hpp"

#include <iterator>
#include <utility>

#include "store/counter_delta.hpp"

namespace fieldsync::store {

SeriesAggregator::SeriesAggregator(core::MetricSpec spec, TimeZone zone, std::int64_t late_window_s)
    : spec_(std::move(spec)),
      zone_(zone),
      late_window_us_(late_window_s * core::kMicrosPerSecond) {}

ApplyOutcome SeriesAggregator::Apply(core::TimeUs ts, double value) {
  if (IsLate(ts, newest_, late_window_us_)) {
    ++late_;
    return ApplyOutcome::kLate;
  }
  if (window_.count(ts) != 0) return ApplyOutcome::kDuplicate;

  AddReading(hourly_[HourBucketStart(ts)], ts, value, spec_);
  AddReading(daily_[zone_.LocalDay(ts)], ts, value, spec_);
  if (spec_.kind == core::MetricKind::kCounter) {
    auto next_it = window_.upper_bound(ts);
    std::optional<CounterPoint> prev, next;
    if (next_it != window_.end()) next = CounterPoint{next_it->first, next_it->second};
    if (next_it != window_.begin()) {
      auto prev_it = std::prev(next_it);
      prev = CounterPoint{prev_it->first, prev_it->second};
    }
    InsertionDeltas d = DeltasOfInsertion(prev, CounterPoint{ts, value}, next, spec_.jitter);
    AddDeltaAt(d.own.ts, d.own.delta);
    if (d.next) AddDeltaAt(d.next->ts, d.next->delta);
  }
  window_.emplace(ts, value);
  if (!newest_ || ts > *newest_) {
    newest_ = ts;
    Prune();
  }
  return ApplyOutcome::kAggregated;
}

void SeriesAggregator::AddDeltaAt(core::TimeUs ts, double delta) {
  AddDelta(hourly_[HourBucketStart(ts)], delta);
  AddDelta(daily_[zone_.LocalDay(ts)], delta);
}

void SeriesAggregator::Prune() {
  // Keep everything at or after the cutoff, and the last reading before it as the anchor.
  auto first_inside = window_.lower_bound(*newest_ - late_window_us_);
  if (first_inside == window_.begin()) return;
  window_.erase(window_.begin(), std::prev(first_inside));
}

}  // namespace fieldsync::store
