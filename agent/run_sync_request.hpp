#pragma once
// The `sync` run request (control socket `run`, POST /api/run): its arguments, its answer as
// JSON, and the text `fieldsync sync` prints from that answer. The command prints the same text
// whether it uploaded itself or a running agent did it for it, because both go through
// SyncTotals / SyncPreview and the renderers below. Pure: no I/O.
//
// Answer of a sync:     {"dry_run": false, "cycles", "inserted", "skipped", "quarantined",
//                        "hourly", "daily", "more_pending", "outcome": "ok|retry|error",
//                        "message"}
// Answer of a dry run:  {"dry_run": true, "pending_buckets", "pending_readings", "batch_size",
//                        "batches", "schema", "gateway"}

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "core/expected.hpp"
#include "sync/uploader.hpp"

namespace fieldsync::agent {

// Said by `fieldsync sync` and by a running agent asked to sync without a remote.
inline constexpr const char* kNoRemoteMessage =
    "no remote configured: set [sync] url, url_file or FIELDSYNC_PG_URL";

struct SyncRequest {
  bool once = false;     // one cycle: aggregates and at most one batch
  bool dry_run = false;  // say what is pending, send nothing
};

nlohmann::json ToJson(const SyncRequest& request);
// kInvalidArgument for a member that is not a boolean or not known.
core::Expected<SyncRequest> SyncRequestFromJson(const nlohmann::json& args);

// What a sync would send now.
struct SyncPreview {
  std::int64_t pending_buckets = 0;
  std::int64_t pending_readings = 0;
  std::int64_t batch_size = 1;  // >= 1
  std::string schema;
  std::string gateway;

  std::int64_t batches() const { return (pending_readings + batch_size - 1) / batch_size; }
};

nlohmann::json SyncPreviewToJson(const SyncPreview& preview);
core::Expected<SyncPreview> SyncPreviewFromJson(const nlohmann::json& json);
// "would upload B changed aggregate bucket(s), then R pending reading(s) in N batch(es) of up
// to S to schema X as gateway G\n"
std::string RenderSyncPreview(const SyncPreview& preview);

// The sum of the cycles of one sync, with the last cycle's outcome.
struct SyncTotals {
  std::int64_t cycles = 0;
  std::int64_t inserted = 0;
  std::int64_t skipped = 0;
  std::int64_t quarantined = 0;
  std::int64_t hourly = 0;
  std::int64_t daily = 0;
  bool more_pending = false;  // the last cycle's batch was full
  sync::UploadOutcome outcome = sync::UploadOutcome::kOk;
  std::string message;  // why, unless kOk; never a secret

  // Adds the cycle's counts; its outcome, message and more_pending replace the earlier ones.
  void Add(const sync::CycleReport& cycle);
  bool ok() const { return outcome == sync::UploadOutcome::kOk; }
};

nlohmann::json SyncTotalsToJson(const SyncTotals& totals);
core::Expected<SyncTotals> SyncTotalsFromJson(const nlohmann::json& json);
// "inserted I, skipped S, quarantined Q, hourly buckets H, daily buckets D\n"
std::string RenderSyncTotals(const SyncTotals& totals);

}  // namespace fieldsync::agent
