#include "agent/local_store.hpp"

namespace fieldsync::agent {

core::Expected<std::unique_ptr<LocalStore>> LocalStore::Open(const Config& config,
                                                             core::Clock& clock) {
  auto opened = store::Store::Open(config.state_dir, config.store, clock);
  if (!opened) return opened.error();
  std::unique_ptr<LocalStore> local(new LocalStore());
  local->store_ = std::move(*opened);
  auto aggregates =
      store::AggregateStore::Open(local->store_->database(), config.aggregate, config.metrics);
  if (!aggregates) return aggregates.error();
  local->aggregates_ = std::make_unique<store::AggregateStore>(std::move(*aggregates));
  // Invariant: a reading leaves the outbox only once its buckets include it, and a reading
  // already uploaded but still inside its series' late window is a duplicate (§1, §4).
  local->store_->SetObserver(local->aggregates_.get());
  return local;
}

}  // namespace fieldsync::agent
