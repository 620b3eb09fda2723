#pragma once
// LocalStore: the store of <state_dir> with its aggregates as the store's observer (§4), as every
// command that works on the store directly and `run` open it: readings are folded into their
// buckets in batches and always before they leave the outbox (store/aggregate_store.hpp), and
// commits refuse, as duplicates, readings whose key is still in the late window (uploaded or
// not). Owns both; not thread-safe (one command thread).

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
