#pragma once
// RunStatus: the facts only a running agent knows (§9): how long it has been up, which inputs
// are connected (from the grouped-commit sink), and the outcome of the last sync cycle, which the
// sync loop reports through SetLastSync. Together with the store's own counters they make the
// live status document served on the control socket (and GET /status).
//
// Thread-safety: none; the event loop thread only.

#include <nlohmann/json.hpp>

#include <optional>

#include "agent/config.hpp"
#include "agent/grouped_commit.hpp"
#include "agent/local_store.hpp"
#include "agent/status_document.hpp"
#include "core/clock.hpp"
#include "core/expected.hpp"

namespace fieldsync::agent {

// The facts the store holds (counters, pending, instance id, aggregate watermarks), as
// `fieldsync status` reads them with or without an agent, plus version and clock state. The
// caller adds what only a running agent knows (uptime, connections, last sync).
core::Expected<StatusFacts> CollectStoreFacts(LocalStore& local, core::Clock& clock);

class RunStatus {
 public:
  // Uptime counts from construction, on the clock's boot-time scale (suspend included).
  explicit RunStatus(core::Clock& clock);

  std::int64_t uptime_s() const;

  // For the sync loop: the outcome of the cycle that just ended.
  void SetLastSync(LastSync last_sync) { last_sync_ = std::move(last_sync); }
  const std::optional<LastSync>& last_sync() const { return last_sync_; }

  // The §9 document of the running agent: store facts, uptime_s, last_sync, and `connected` for
  // every configured input (false until the input reports a connection) and every input that
  // reported one.
  core::Expected<nlohmann::json> Document(const Config& config, LocalStore& local,
                                          const GroupedCommit& sink) const;

 private:
  core::Clock& clock_;
  core::TimeUs started_at_;
  std::optional<LastSync> last_sync_;
};

}  // namespace fieldsync::agent
