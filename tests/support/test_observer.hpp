#pragma once
// TestObserver: an OutboxObserver for store tests that records what the store told it and lets a
// test make any call fail or answer its own way. Every call succeeds by default.

#include <cstdint>
#include <functional>
#include <vector>

#include "store/outbox_observer.hpp"

namespace fieldsync::testing {

class TestObserver final : public store::OutboxObserver {
 public:
  core::Status Stored(store::Database& db, std::size_t count, std::int64_t) override {
    stored += static_cast<std::int64_t>(count);
    return on_stored ? on_stored(db, count) : core::Ok();
  }
  core::Status Settle(store::Database&, std::int64_t through) override {
    settled.push_back(through);
    return core::Ok();
  }
  // Keeps no key, as the store without an observer.
  core::Status Removed(store::Database& db,
                       const std::vector<store::RemovedReading>& readings) override {
    removed.insert(removed.end(), readings.begin(), readings.end());
    return store::ForgetKeys(db, readings);
  }
  core::Status Released(store::Database&, const std::vector<core::Reading>& readings) override {
    released.insert(released.end(), readings.begin(), readings.end());
    return core::Ok();
  }
  core::Status Restored(store::Database&) override {
    ++restored;
    return core::Ok();
  }
  core::Expected<std::int64_t> IdFloor(store::Database&) override { return id_floor; }

  std::function<core::Status(store::Database&, std::size_t)> on_stored;
  std::int64_t id_floor = 0;

  std::int64_t stored = 0;                     // readings Stored was told of
  std::vector<std::int64_t> settled;           // the `through` of each Settle
  std::vector<store::RemovedReading> removed;  // every reading Removed was given
  std::vector<core::Reading> released;         // every reading Released was given
  int restored = 0;
};

}  // namespace fieldsync::testing
