#include "sync/backoff.hpp"

#include <algorithm>
#include <memory>
#include <random>

namespace fieldsync::sync {

Backoff::Backoff(std::int64_t base_ms, std::int64_t max_backoff_s, Uniform uniform)
    : base_ms_(std::max<std::int64_t>(base_ms, 1)),
      cap_ms_(std::max<std::int64_t>(max_backoff_s, 0) * 1000),
      uniform_(std::move(uniform)) {
  cap_ms_ = std::max(cap_ms_, base_ms_);
}

std::int64_t Backoff::CurrentCeilingMs() const {
  std::int64_t ceiling = base_ms_;
  // Doubling stops at the cap, so no shift can overflow however many failures there were.
  for (std::int64_t i = 0; i < failures_ && ceiling < cap_ms_; ++i) ceiling *= 2;
  return std::min(ceiling, cap_ms_);
}

std::int64_t Backoff::NextDelayMs() {
  const std::int64_t ceiling = CurrentCeilingMs();
  ++failures_;
  return std::clamp<std::int64_t>(uniform_(ceiling), 0, ceiling);
}

Backoff::Uniform SeededUniform(std::uint64_t seed) {
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine](std::int64_t max_inclusive) {
    std::uniform_int_distribution<std::int64_t> dist(0, max_inclusive);
    return dist(*engine);
  };
}

}  // namespace fieldsync::sync
