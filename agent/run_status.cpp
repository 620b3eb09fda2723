#include "agent/run_status.hpp"

#include <utility>

namespace fieldsync::agent {

core::Expected<StatusFacts> CollectStoreFacts(LocalStore& local, core::Clock& clock) {
  StatusFacts facts;
  facts.version = FIELDSYNC_VERSION;
  facts.clock_synced = clock.IsSynchronized();
  auto stats = local.store().Stats();
  if (!stats) return stats.error();
  facts.stats = std::move(*stats);
  facts.instance_id = local.store().instance_id();
  auto pending = local.aggregates().PendingCount();
  if (pending) facts.pending_aggregates = *pending;
  store::Watermarks marks = local.aggregates().WatermarksAt(clock.NowUs());
  facts.hourly_watermark = marks.hourly;
  facts.daily_watermark = marks.daily;
  return facts;
}

RunStatus::RunStatus(core::Clock& clock) : clock_(clock), started_at_(clock.BootTimeUs()) {}

std::int64_t RunStatus::uptime_s() const {
  return (clock_.BootTimeUs() - started_at_) / core::kMicrosPerSecond;
}

core::Expected<nlohmann::json> RunStatus::Document(const Config& config, LocalStore& local,
                                                   const GroupedCommit& sink) const {
  auto facts = CollectStoreFacts(local, clock_);
  if (!facts) return facts.error();
  facts->uptime_s = uptime_s();
  facts->last_sync = last_sync_;
  // A running agent knows every input's state: one that never connected is not connected.
  for (const auto& serial : config.serial) facts->connected[serial.name] = false;
  for (const auto& mqtt : config.mqtt) facts->connected[mqtt.name] = false;
  for (const auto& [name, connected] : sink.connections()) {
    facts->connected[name] = connected;
    // Listed even before its first commit (an ingest stream that just began); zero counters.
    facts->stats.inputs.try_emplace(name);
  }
  return BuildStatusDocument(config, *facts);
}

}  // namespace fieldsync::agent
