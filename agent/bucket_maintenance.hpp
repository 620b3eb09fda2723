#pragma once
// Bucket maintenance: what `aggregate`, `backfill` and `cleanup` do (§4, §7), shared by the
// commands (working on the store under the state lock) and by a running agent (the same requests
// arriving as `run` requests on the control socket).
//
// A request is a plain value, read from the command's flags or from a run request's JSON
// arguments. Planning turns it into recompute passes over whole buckets, with dates and "the last
// N days" read as calendar days of [aggregate] timezone; planning is pure (zone and current time
// passed in) and is where every usage error is found (kInvalidArgument, exit 2). Running a plan
// calls AggregateStore::Recompute / Cleanup; reports render as text or JSON, identical for both
// paths.
//
// Thread-safety: the functions hold no state; those taking an AggregateStore follow its rules
// (the thread that owns the store).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "core/time.hpp"
#include "store/aggregate_store.hpp"
#include "store/store.hpp"
#include "store/time_zone.hpp"

namespace fieldsync::agent {

// Upper bounds on N (a century): beyond them the arithmetic on instants would overflow.
inline constexpr std::int64_t kMaxMaintenanceDays = 36'500;
inline constexpr std::int64_t kMaxMaintenanceHours = 24 * kMaxMaintenanceDays;

enum class AggregateScope : unsigned char { kHourly, kDaily, kFull };

const char* ToString(AggregateScope scope);

// `aggregate hourly|daily|full [--hours N] [--days N]`. Without N: hourly covers the last 24
// hours, daily the last 7 days, full both over the whole range of raw readings still stored.
// hourly takes --hours or --days (as N x 24 hours); daily and full take --days only.
struct AggregateRequest {
  AggregateScope scope = AggregateScope::kFull;
  std::optional<std::int64_t> hours;
  std::optional<std::int64_t> days;
  bool dry_run = false;
};

// `backfill --days N | --from DATE --to DATE`: hourly and daily over the last N local days
// (today included) or the local dates from..to, both inclusive.
struct BackfillRequest {
  std::optional<std::int64_t> days;
  std::optional<std::string> from;  // YYYY-MM-DD
  std::optional<std::string> to;
  bool dry_run = false;
};

// `cleanup [--retention-days N]`: N (0 or more) replaces both configured retentions.
struct CleanupRequest {
  std::optional<std::int64_t> retention_days;
  bool dry_run = false;
};

// The raw readings still in the store: the oldest and newest ts (both inclusive).
struct RetainedRange {
  core::TimeUs oldest = 0;
  core::TimeUs newest = 0;
};

// One recompute: buckets of `kind` overlapping the UTC range [from, to), which planning aligns
// to whole buckets (UTC hours; local days of the zone). Empty (from == to): nothing to examine.
struct RecomputePass {
  store::BucketKind kind = store::BucketKind::kHourly;
  core::TimeUs from = 0;
  core::TimeUs to = 0;
};

// The passes of a request, hourly first. `retained` is only read by `aggregate full` without
// --days; nullopt means the store holds no raw readings (the passes are then empty).
core::Expected<std::vector<RecomputePass>> PlanAggregate(const AggregateRequest& request,
                                                         const store::TimeZone& zone,
                                                         core::TimeUs now,
                                                         std::optional<RetainedRange> retained);
core::Expected<std::vector<RecomputePass>> PlanBackfill(const BackfillRequest& request,
                                                        const store::TimeZone& zone,
                                                        core::TimeUs now);
// kInvalidArgument for a negative or absurd --retention-days.
core::Status CheckCleanup(const CleanupRequest& request);

struct PassReport {
  RecomputePass pass;
  store::RecomputeCounts counts;
};

struct RecomputeReport {
  bool dry_run = false;
  std::vector<PassReport> passes;
};

// Runs the passes in order, each in its own transaction (none with dry_run). `aggregates` null:
// there is no store yet, every count is 0.
core::Expected<RecomputeReport> RunRecompute(store::AggregateStore* aggregates,
                                             const std::vector<RecomputePass>& passes,
                                             bool dry_run);

// The ts range of the raw readings in `store`; nullopt when it holds none.
core::Expected<std::optional<RetainedRange>> RetainedRangeOf(store::Store& store);

// Each command on a store, start to end: plan (usage errors: kInvalidArgument), run, report as
// JSON. `store`/`aggregates` null: no store exists yet (nothing to do, the counts are 0).
// Backfill's report has no "upload" member: uploading is the caller's (the command uploads at
// once, a running agent leaves it to its sync loop).
core::Expected<nlohmann::json> ExecuteAggregate(const AggregateRequest& request,
                                                store::Store* store,
                                                store::AggregateStore* aggregates,
                                                const store::TimeZone& zone, core::TimeUs now);
core::Expected<nlohmann::json> ExecuteBackfill(const BackfillRequest& request,
                                               store::AggregateStore* aggregates,
                                               const store::TimeZone& zone, core::TimeUs now);
core::Expected<nlohmann::json> ExecuteCleanup(const CleanupRequest& request,
                                              store::AggregateStore* aggregates,
                                              const store::AggregateOptions& options,
                                              core::TimeUs now);

// {"dry_run": b, "hourly": {"from", "to", "buckets", "rewritten", "skipped_incomplete"},
//  "daily": {... "from"/"to" as inclusive local dates, "start"/"end" as UTC instants,
//  "timezone"}}; a kind without a pass is absent.
nlohmann::json RecomputeReportToJson(const RecomputeReport& report, const store::TimeZone& zone);
// One line per pass of a RecomputeReportToJson document, then a dry-run note.
std::string RenderRecomputeText(const nlohmann::json& report);

// {"dry_run", "hourly", "daily", "kept_pending", "hourly_retention_days", "daily_retention_days"}.
nlohmann::json CleanupReportToJson(const store::CleanupCounts& counts, bool dry_run,
                                   std::int64_t hourly_retention_days,
                                   std::int64_t daily_retention_days);
std::string RenderCleanupText(const nlohmann::json& report);

// The JSON arguments of a `run` request (control socket) for each command, and back. Members:
// aggregate {"scope": "hourly|daily|full", "hours", "days", "dry_run"}; backfill {"days", "from",
// "to", "dry_run"}; cleanup {"retention_days", "dry_run"}. Absent members are unset; a member of
// the wrong type or an unknown one is kInvalidArgument.
nlohmann::json ToJson(const AggregateRequest& request);
nlohmann::json ToJson(const BackfillRequest& request);
nlohmann::json ToJson(const CleanupRequest& request);
core::Expected<AggregateRequest> AggregateRequestFromJson(const nlohmann::json& args);
core::Expected<BackfillRequest> BackfillRequestFromJson(const nlohmann::json& args);
core::Expected<CleanupRequest> CleanupRequestFromJson(const nlohmann::json& args);

}  // namespace fieldsync::agent
