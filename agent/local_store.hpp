#pragma once
// LocalStore: the store of <state_dir> with its aggregates maintained inside every commit (§4),
// as the commands that work on the store directly (ingest, status) open it. Its commits also
// refuse, as duplicates, readings whose key is still in the late window (uploaded or not).
// Owns both; not thread-safe (one command thread).

#include <memory>

#include "agent/config.hpp"
#include "core/clock.hpp"
#include "core/expected.hpp"
#include "store/aggregate_store.hpp"
#include "store/store.hpp"

namespace fieldsync::agent {

class LocalStore {
 public:
  // Opens (creating if needed) <state_dir>/fieldsync.db and its aggregate tables. The caller
  // holds the state lock if it means to write.
  static core::Expected<std::unique_ptr<LocalStore>> Open(const Config& config, core::Clock& clock);

  store::Store& store() { return *store_; }
  store::AggregateStore& aggregates() { return *aggregates_; }

 private:
  LocalStore() = default;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::AggregateStore> aggregates_;
};

}  // namespace fieldsync::agent
