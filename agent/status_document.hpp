#pragma once
// The status document of §9, built from plain values so that `fieldsync status`, GET /status
// and tests share one shape. Fields nobody can know yet (no agent running, no sync so far) are
// present and null; counters the store has not seen are 0. Pure: no I/O.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "agent/config.hpp"
#include "core/time.hpp"
#include "store/store.hpp"

namespace fieldsync::agent {

// The outcome of the last sync cycle, as far as it is known.
struct LastSync {
  std::optional<core::TimeUs> at;
  bool ok = false;
  std::string error;  // empty when ok
  std::int64_t inserted = 0;
  std::int64_t skipped = 0;
};

struct StatusFacts {
  std::string version;
  std::optional<std::string> instance_id;  // nullopt: no store yet
  std::optional<std::int64_t> uptime_s;    // nullopt: no agent runs
  bool clock_synced = false;
  store::StoreStats stats;  // all zero when there is no store yet
  std::optional<std::int64_t> pending_aggregates;
  std::optional<core::TimeUs> hourly_watermark;  // start of the last closed UTC hour
  std::optional<std::int64_t> daily_watermark;   // last closed local day (days since epoch)
  std::optional<LastSync> last_sync;
  // Per input name: whether it is connected now; only a running agent knows.
  std::map<std::string, bool> connected;
};

// The §9 document. `inputs` lists every configured input (serial, mqtt, http when listening)
// and every input the store has counters for (e.g. "ingest"), in that order.
nlohmann::json BuildStatusDocument(const Config& config, const StatusFacts& facts);

// The same for people: a few aligned lines.
std::string RenderStatusText(const nlohmann::json& status);

}  // namespace fieldsync::agent
