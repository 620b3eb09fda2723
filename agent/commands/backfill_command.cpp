// `fieldsync backfill --days N | --from DATE --to DATE [--dry-run] [--json]`: recompute hourly
// and daily buckets of a range of local dates (§4, §7), then, when a remote is configured, upload
// the changed buckets in one bucket-only pass of the uploader. When the remote cannot take them
// they stay marked changed for the next sync, and the command says so (exit 1).
#include <memory>
#include <sstream>

#include "agent/bucket_maintenance.hpp"
#include "agent/bucket_maintenance_command.hpp"
#include "agent/command.hpp"
#include "sync/store_outbox.hpp"
#include "sync/uploader.hpp"

namespace fieldsync::agent {
namespace {

// Cycles of the bucket-only pass; each sends up to the uploader's bucket rounds of batch_size.
constexpr int kMaxUploadCycles = 64;

struct BackfillFlags {
  BackfillRequest request;
  bool json = false;
};

// Offers no readings, so that a cycle of the uploader sends only the changed buckets (and the
// gateways row, with the store's true pending counts).
class NoReadingsOutbox final : public sync::ReadingOutbox {
 public:
  explicit NoReadingsOutbox(sync::ReadingOutbox& store) : store_(store) {}
  core::Expected<store::UploadBatch> OldestPending(std::size_t, std::int64_t) override {
    return store::UploadBatch{};
  }
  core::Status DeleteUploaded(const std::vector<std::int64_t>&) override { return core::Ok(); }
  core::Status Quarantine(const std::vector<std::int64_t>&, const std::string&) override {
    return core::MakeError(core::Errc::kUnsupported, "no readings are sent by backfill");
  }
  core::Expected<sync::OutboxState> State() override { return store_.State(); }

 private:
  sync::ReadingOutbox& store_;
};

nlohmann::json UploadChangedBuckets(const Config& config, LocalStore& local, core::Clock& clock) {
  sync::StoreReadingOutbox readings(local.store());
  NoReadingsOutbox no_readings(readings);
  sync::AggregateBucketOutbox buckets(local.aggregates());
  sync::UploaderOptions options;
  options.url = config.sync.url;
  options.schema = config.sync.schema;
  options.gateway = config.gateway;
  options.instance_id = local.store().instance_id();
  options.version = FIELDSYNC_VERSION;
  options.batch_size =
      static_cast<std::size_t>(config.sync.batch_size > 0 ? config.sync.batch_size : 1);
  options.op_timeout_s = config.sync.op_timeout_s;
  options.metrics = config.metrics;
  sync::Uploader uploader(std::move(options), no_readings, &buckets, clock);

  nlohmann::json upload = {{"status", "done"}, {"hourly", 0}, {"daily", 0}};
  for (int cycle = 0; cycle < kMaxUploadCycles; ++cycle) {
    const sync::CycleReport r = uploader.RunCycle();
    upload["hourly"] = upload["hourly"].get<std::int64_t>() + r.hourly;
    upload["daily"] = upload["daily"].get<std::int64_t>() + r.daily;
    if (r.outcome != sync::UploadOutcome::kOk) {
      upload["status"] = "failed";
      upload["message"] = r.message + "; the changed buckets stay marked for the next sync";
      break;
    }
    auto pending = local.aggregates().PendingCount();
    if (!pending || *pending == 0 || r.hourly + r.daily == 0) break;
  }
  auto pending = local.aggregates().PendingCount();
  upload["pending"] = pending ? nlohmann::json(*pending) : nlohmann::json();
  return upload;
}

std::string RenderBackfillText(const nlohmann::json& report) {
  std::ostringstream out;
  out << RenderRecomputeText(report);
  if (!report.contains("upload")) return out.str();
  const nlohmann::json& upload = report["upload"];
  const std::string status = upload.value("status", "");
  if (status == "local_only") {
    out << "upload: none, no remote configured ([sync] url)\n";
  } else {
    out << "upload: " << upload.value("hourly", 0) << " hourly and " << upload.value("daily", 0)
        << " daily buckets sent";
    if (status == "failed") out << "; failed: " << upload.value("message", "");
    if (status == "queued") out << "; " << upload.value("message", "");
    out << "\n";
  }
  return out.str();
}

int RunBackfill(const CommandContext& context, const BackfillFlags& flags) {
  const BackfillRequest request = flags.request;
  MaintenanceCommand command;
  command.name = "backfill";
  command.args = ToJson(request);
  command.dry_run = request.dry_run;
  command.json = flags.json;
  command.validate = [request](const store::TimeZone& zone, core::TimeUs now) -> core::Status {
    auto plan = PlanBackfill(request, zone, now);
    if (!plan) return plan.error();
    return core::Ok();
  };
  command.run_local = [request](const Config& config, LocalStore* local,
                                const store::TimeZone& zone,
                                core::Clock& clock) -> core::Expected<nlohmann::json> {
    auto report =
        ExecuteBackfill(request, local ? &local->aggregates() : nullptr, zone, clock.NowUs());
    if (!report || request.dry_run) return report;
    if (config.sync.url.empty()) {
      (*report)["upload"] = {{"status", "local_only"}};
    } else if (local != nullptr) {
      (*report)["upload"] = UploadChangedBuckets(config, *local, clock);
    }
    return report;
  };
  command.render_text = RenderBackfillText;
  command.failed = [](const nlohmann::json& report) {
    return report.contains("upload") && report["upload"].value("status", "") == "failed";
  };
  return RunMaintenanceCommand(context, command);
}

}  // namespace

void RegisterBackfillCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<BackfillFlags>();
  auto* backfill = app.add_subcommand(
      "backfill", "recompute the buckets of a date range and upload the changed ones");
  backfill->add_option("--days", flags->request.days,
                       "the last N days in [aggregate] timezone, today included");
  backfill->add_option("--from", flags->request.from, "first local date, YYYY-MM-DD");
  backfill->add_option("--to", flags->request.to, "last local date (inclusive), YYYY-MM-DD");
  backfill->add_flag("--dry-run", flags->request.dry_run,
                     "count what would change, write and upload nothing");
  backfill->add_flag("--json", flags->json, "print the counts as JSON");
  backfill->callback([&context, flags] { context.exit_code = RunBackfill(context, *flags); });
}

}  // namespace fieldsync::agent
