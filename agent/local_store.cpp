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
  store::AggregateStore* target = local->aggregates_.get();
  // Invariant: a reading is in the outbox only if its buckets include it (same transaction).
  local->store_->SetCommitHook(
      [target](store::Database&, const std::vector<core::Reading>& stored) -> core::Status {
        auto applied = target->Apply(stored);
        if (!applied) return applied.error();
        return core::Ok();
      });
  // §1: a reading already uploaded (so no longer pending) but still inside its series' late
  // window is a duplicate, not a new pending reading. Asked only about readings with a series.
  local->store_->SetDuplicateFilter([target](store::Database&, std::int64_t series_id,
                                             const core::Reading& reading) -> core::Expected<bool> {
    return target->InLateWindow(series_id, reading.ts);
  });
  return local;
}

}  // namespace fieldsync::agent
