#pragma once
// Backoff: capped full-jitter exponential backoff for the sync loop (§5 "Errors").
// The n-th consecutive failure (n = 0, 1, ...) waits a uniformly random time in
// [0, min(cap, base * 2^n)]; a success resets n. Pure: randomness comes in through `Uniform`.
// Not thread-safe.

#include <cstdint>
#include <functional>

namespace fieldsync::sync {

class Backoff {
 public:
  // Returns a uniformly distributed integer in [0, max_inclusive].
  using Uniform = std::function<std::int64_t(std::int64_t max_inclusive)>;

  // base_ms: the first ceiling (1 s in production); max_backoff_s: the cap (§6 max_backoff_s).
  Backoff(std::int64_t base_ms, std::int64_t max_backoff_s, Uniform uniform);

  // The delay before the next attempt, in milliseconds; counts one more failure.
  std::int64_t NextDelayMs();
  // The ceiling NextDelayMs will draw under now.
  std::int64_t CurrentCeilingMs() const;
  // After a success: the next failure starts again from base_ms.
  void Reset() { failures_ = 0; }
  std::int64_t failures() const { return failures_; }

 private:
  std::int64_t base_ms_;
  std::int64_t cap_ms_;
  Uniform uniform_;
  std::int64_t failures_ = 0;
};

// A Uniform drawing from a std::mt19937_64 seeded with `seed` (tests pass a fixed seed, the agent
// a random one).
Backoff::Uniform SeededUniform(std::uint64_t seed);

}  // namespace fieldsync::sync
