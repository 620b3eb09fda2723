// `fieldsync cleanup [--retention-days N] [--dry-run] [--json]`: delete local buckets past
// retention ([aggregate] hourly_retention_days / daily_retention_days, or N for both), never one
// whose current version was not uploaded (those are counted as kept_pending).
#include <memory>

#include "agent/bucket_maintenance.hpp"
#include "agent/bucket_maintenance_command.hpp"
#include "agent/command.hpp"

namespace fieldsync::agent {
namespace {

struct CleanupFlags {
  CleanupRequest request;
  bool json = false;
};

int RunCleanup(const CommandContext& context, const CleanupFlags& flags) {
  const CleanupRequest request = flags.request;
  MaintenanceCommand command;
  command.name = "cleanup";
  command.args = ToJson(request);
  command.dry_run = request.dry_run;
  command.json = flags.json;
  command.validate = [request](const store::TimeZone&, core::TimeUs) {
    return CheckCleanup(request);
  };
  command.run_local = [request](const Config& config, LocalStore* local, const store::TimeZone&,
                                core::Clock& clock) {
    return ExecuteCleanup(request, local ? &local->aggregates() : nullptr, config.aggregate,
                          clock.NowUs());
  };
  command.render_text = [](const nlohmann::json& report) { return RenderCleanupText(report); };
  return RunMaintenanceCommand(context, command);
}

}  // namespace

void RegisterCleanupCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<CleanupFlags>();
  auto* cleanup = app.add_subcommand(
      "cleanup", "delete local buckets past retention (never one not yet uploaded)");
  cleanup->add_option("--retention-days", flags->request.retention_days,
                      "keep N days of hourly and daily buckets (default: the configured ones)");
  cleanup->add_flag("--dry-run", flags->request.dry_run, "count what would go, delete nothing");
  cleanup->add_flag("--json", flags->json, "print the counts as JSON");
  cleanup->callback([&context, flags] { context.exit_code = RunCleanup(context, *flags); });
}

}  // namespace fieldsync::agent
