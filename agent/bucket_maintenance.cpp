#include "agent/bucket_maintenance.hpp"

#include <sstream>

#include "store/bucket.hpp"

namespace fieldsync::agent {
namespace {

using store::BucketKind;

core::Error Usage(std::string message) {
  return core::MakeError(core::Errc::kInvalidArgument, std::move(message));
}

core::Status CheckCount(const std::optional<std::int64_t>& n, const char* flag, std::int64_t max) {
  if (n && (*n < 1 || *n > max)) {
    return Usage(std::string(flag) + " must be between 1 and " + std::to_string(max) + ", got " +
                 std::to_string(*n));
  }
  return core::Ok();
}

// The local days [first, last] as a pass of `kind`; hourly passes cover the UTC hours
// overlapping those days (a half-hour zone's day starts inside an hour).
RecomputePass DaysPass(BucketKind kind, const store::TimeZone& zone, std::int64_t first,
                       std::int64_t last) {
  core::TimeUs from = zone.DayStart(first);
  core::TimeUs to = zone.DayEnd(last);
  if (kind == BucketKind::kHourly) {
    from = store::HourBucketStart(from);
    to = store::HourBucketStart(to - 1) + core::kMicrosPerHour;
  }
  return RecomputePass{kind, from, to};
}

std::vector<RecomputePass> LastDays(const store::TimeZone& zone, core::TimeUs now,
                                    std::int64_t days) {
  const std::int64_t today = zone.LocalDay(now);
  return {DaysPass(BucketKind::kHourly, zone, today - days + 1, today),
          DaysPass(BucketKind::kDaily, zone, today - days + 1, today)};
}

RecomputePass LastHours(core::TimeUs now, std::int64_t hours) {
  const core::TimeUs current = store::HourBucketStart(now);
  return RecomputePass{BucketKind::kHourly, current - (hours - 1) * core::kMicrosPerHour,
                       current + core::kMicrosPerHour};
}

const char* KindName(BucketKind kind) { return kind == BucketKind::kHourly ? "hourly" : "daily"; }

}  // namespace

const char* ToString(AggregateScope scope) {
  switch (scope) {
    case AggregateScope::kHourly:
      return "hourly";
    case AggregateScope::kDaily:
      return "daily";
    case AggregateScope::kFull:
      return "full";
  }
  return "full";
}

core::Expected<std::vector<RecomputePass>> PlanAggregate(const AggregateRequest& request,
                                                         const store::TimeZone& zone,
                                                         core::TimeUs now,
                                                         std::optional<RetainedRange> retained) {
  if (auto s = CheckCount(request.hours, "--hours", kMaxMaintenanceHours); !s) return s.error();
  if (auto s = CheckCount(request.days, "--days", kMaxMaintenanceDays); !s) return s.error();
  switch (request.scope) {
    case AggregateScope::kHourly:
      if (request.hours && request.days) return Usage("give --hours or --days, not both");
      return std::vector<RecomputePass>{
          LastHours(now, request.days ? *request.days * 24 : request.hours.value_or(24))};
    case AggregateScope::kDaily:
      if (request.hours) return Usage("aggregate daily takes --days, not --hours");
      return std::vector<RecomputePass>{LastDays(zone, now, request.days.value_or(7))[1]};
    case AggregateScope::kFull:
      if (request.hours) return Usage("aggregate full takes --days, not --hours");
      if (request.days) return LastDays(zone, now, *request.days);
      if (!retained) {
        return std::vector<RecomputePass>{{BucketKind::kHourly, 0, 0}, {BucketKind::kDaily, 0, 0}};
      }
      return std::vector<RecomputePass>{
          RecomputePass{BucketKind::kHourly, store::HourBucketStart(retained->oldest),
                        store::HourBucketStart(retained->newest) + core::kMicrosPerHour},
          DaysPass(BucketKind::kDaily, zone, zone.LocalDay(retained->oldest),
                   zone.LocalDay(retained->newest))};
  }
  return Usage("unknown scope");
}

core::Expected<std::vector<RecomputePass>> PlanBackfill(const BackfillRequest& request,
                                                        const store::TimeZone& zone,
                                                        core::TimeUs now) {
  const bool dates = request.from || request.to;
  if (request.days && dates) return Usage("give --days N or --from DATE --to DATE, not both");
  if (request.days) {
    if (auto s = CheckCount(request.days, "--days", kMaxMaintenanceDays); !s) return s.error();
    return LastDays(zone, now, *request.days);
  }
  if (!request.from || !request.to) {
    return Usage("backfill needs --days N, or both --from DATE and --to DATE");
  }
  auto from = core::ParseIsoDate(*request.from);
  if (!from) return Usage("--from: expected a date YYYY-MM-DD, got '" + *request.from + "'");
  auto to = core::ParseIsoDate(*request.to);
  if (!to) return Usage("--to: expected a date YYYY-MM-DD, got '" + *request.to + "'");
  if (*from > *to) {
    return Usage("--from " + *request.from + " is after --to " + *request.to);
  }
  if (*to - *from >= kMaxMaintenanceDays) {
    return Usage("the range is longer than " + std::to_string(kMaxMaintenanceDays) + " days");
  }
  return std::vector<RecomputePass>{DaysPass(BucketKind::kHourly, zone, *from, *to),
                                    DaysPass(BucketKind::kDaily, zone, *from, *to)};
}

core::Status CheckCleanup(const CleanupRequest& request) {
  if (request.retention_days &&
      (*request.retention_days < 0 || *request.retention_days > kMaxMaintenanceDays)) {
    return Usage("--retention-days must be between 0 and " + std::to_string(kMaxMaintenanceDays) +
                 ", got " + std::to_string(*request.retention_days));
  }
  return core::Ok();
}

core::Expected<RecomputeReport> RunRecompute(store::AggregateStore* aggregates,
                                             const std::vector<RecomputePass>& passes,
                                             bool dry_run) {
  RecomputeReport report;
  report.dry_run = dry_run;
  for (const RecomputePass& pass : passes) {
    PassReport done{pass, {}};
    if (pass.from < pass.to && aggregates != nullptr) {
      auto counts = aggregates->Recompute(pass.kind, pass.from, pass.to, dry_run);
      if (!counts) return counts.error().Wrap(std::string("recompute ") + KindName(pass.kind));
      done.counts = *counts;
    }
    report.passes.push_back(done);
  }
  return report;
}

nlohmann::json RecomputeReportToJson(const RecomputeReport& report, const store::TimeZone& zone) {
  nlohmann::json json = {{"dry_run", report.dry_run}};
  for (const PassReport& done : report.passes) {
    nlohmann::json pass = {{"buckets", done.counts.buckets},
                           {"rewritten", done.counts.rewritten},
                           {"skipped_incomplete", done.counts.skipped_incomplete}};
    const bool empty = done.pass.from >= done.pass.to;
    if (done.pass.kind == BucketKind::kHourly) {
      pass["from"] = empty ? nlohmann::json() : nlohmann::json(core::FormatRfc3339(done.pass.from));
      pass["to"] = empty ? nlohmann::json() : nlohmann::json(core::FormatRfc3339(done.pass.to));
    } else {
      pass["timezone"] = zone.name();
      if (empty) {
        pass["from"] = pass["to"] = pass["start"] = pass["end"] = nullptr;
      } else {
        pass["from"] = core::FormatIsoDate(zone.LocalDay(done.pass.from));
        pass["to"] = core::FormatIsoDate(zone.LocalDay(done.pass.to - 1));
        pass["start"] = core::FormatRfc3339(done.pass.from);
        pass["end"] = core::FormatRfc3339(done.pass.to);
      }
    }
    json[KindName(done.pass.kind)] = std::move(pass);
  }
  return json;
}

std::string RenderRecomputeText(const nlohmann::json& report) {
  const bool dry_run = report.value("dry_run", false);
  std::ostringstream out;
  for (const char* kind : {"hourly", "daily"}) {
    if (!report.contains(kind)) continue;
    const nlohmann::json& pass = report[kind];
    out << (std::string(kind) == "hourly" ? "hourly " : "daily  ");
    if (pass["from"].is_null()) {
      out << "(no raw readings stored)";
    } else {
      out << pass["from"].get<std::string>() << " .. " << pass["to"].get<std::string>();
      if (pass.contains("timezone")) out << " (" << pass["timezone"].get<std::string>() << ")";
    }
    out << ": " << pass.value("buckets", 0) << " buckets examined, " << pass.value("rewritten", 0)
        << (dry_run ? " would be rewritten, " : " rewritten, ")
        << pass.value("skipped_incomplete", 0) << " skipped as incomplete\n";
  }
  if (dry_run) out << "(dry run: nothing written)\n";
  return out.str();
}

core::Expected<std::optional<RetainedRange>> RetainedRangeOf(store::Store& store) {
  auto oldest = store.database().QueryInt64("SELECT min(ts) FROM readings");
  if (!oldest) return oldest.error();
  auto newest = store.database().QueryInt64("SELECT max(ts) FROM readings");
  if (!newest) return newest.error();
  if (!*oldest || !*newest) return std::optional<RetainedRange>();
  return std::optional<RetainedRange>(RetainedRange{**oldest, **newest});
}

core::Expected<nlohmann::json> ExecuteAggregate(const AggregateRequest& request,
                                                store::Store* store,
                                                store::AggregateStore* aggregates,
                                                const store::TimeZone& zone, core::TimeUs now) {
  std::optional<RetainedRange> retained;
  if (store != nullptr && request.scope == AggregateScope::kFull && !request.days) {
    auto range = RetainedRangeOf(*store);
    if (!range) return range.error();
    retained = *range;
  }
  auto plan = PlanAggregate(request, zone, now, retained);
  if (!plan) return plan.error();
  auto report = RunRecompute(aggregates, *plan, request.dry_run);
  if (!report) return report.error();
  return RecomputeReportToJson(*report, zone);
}

core::Expected<nlohmann::json> ExecuteBackfill(const BackfillRequest& request,
                                               store::AggregateStore* aggregates,
                                               const store::TimeZone& zone, core::TimeUs now) {
  auto plan = PlanBackfill(request, zone, now);
  if (!plan) return plan.error();
  auto report = RunRecompute(aggregates, *plan, request.dry_run);
  if (!report) return report.error();
  return RecomputeReportToJson(*report, zone);
}

core::Expected<nlohmann::json> ExecuteCleanup(const CleanupRequest& request,
                                              store::AggregateStore* aggregates,
                                              const store::AggregateOptions& options,
                                              core::TimeUs now) {
  if (auto s = CheckCleanup(request); !s) return s.error();
  const std::int64_t hourly_days = request.retention_days.value_or(options.hourly_retention_days);
  const std::int64_t daily_days = request.retention_days.value_or(options.daily_retention_days);
  store::CleanupCounts counts;
  if (aggregates != nullptr) {
    auto done = aggregates->Cleanup(now, request.dry_run, hourly_days, daily_days);
    if (!done) return done.error().Wrap("cleanup");
    counts = *done;
  }
  return CleanupReportToJson(counts, request.dry_run, hourly_days, daily_days);
}

nlohmann::json CleanupReportToJson(const store::CleanupCounts& counts, bool dry_run,
                                   std::int64_t hourly_retention_days,
                                   std::int64_t daily_retention_days) {
  return {{"dry_run", dry_run},
          {"hourly", counts.hourly},
          {"daily", counts.daily},
          {"kept_pending", counts.kept_pending},
          {"hourly_retention_days", hourly_retention_days},
          {"daily_retention_days", daily_retention_days}};
}

std::string RenderCleanupText(const nlohmann::json& report) {
  const bool dry_run = report.value("dry_run", false);
  std::ostringstream out;
  out << (dry_run ? "would delete " : "deleted ") << report.value("hourly", 0)
      << " hourly buckets (older than " << report.value("hourly_retention_days", 0) << " days) and "
      << report.value("daily", 0) << " daily buckets (older than "
      << report.value("daily_retention_days", 0) << " days)\n"
      << "kept_pending " << report.value("kept_pending", 0)
      << " buckets past retention, not yet uploaded\n";
  if (dry_run) out << "(dry run: nothing deleted)\n";
  return out.str();
}

}  // namespace fieldsync::agent
