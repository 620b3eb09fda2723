// `fieldsync aggregate hourly|daily|full [--hours N] [--days N] [--dry-run] [--json]`: recompute
// buckets from the raw readings still in the store (§4), rewriting only those whose readings are
// all still local; prints buckets examined, rewritten and skipped as incomplete.
#include <memory>

#include "agent/bucket_maintenance.hpp"
#include "agent/bucket_maintenance_command.hpp"
#include "agent/command.hpp"

namespace fieldsync::agent {
namespace {

struct AggregateFlags {
  std::string scope;
  AggregateRequest request;
  bool json = false;
};

AggregateScope ScopeOf(const std::string& name) {
  if (name == "hourly") return AggregateScope::kHourly;
  if (name == "daily") return AggregateScope::kDaily;
  return AggregateScope::kFull;
}

int RunAggregate(const CommandContext& context, AggregateFlags flags) {
  flags.request.scope = ScopeOf(flags.scope);
  const AggregateRequest request = flags.request;
  MaintenanceCommand command;
  command.name = "aggregate";
  command.args = ToJson(request);
  command.dry_run = request.dry_run;
  command.json = flags.json;
  command.validate = [request](const store::TimeZone& zone, core::TimeUs now) -> core::Status {
    auto plan = PlanAggregate(request, zone, now, std::nullopt);
    if (!plan) return plan.error();
    return core::Ok();
  };
  command.run_local = [request](const Config&, LocalStore* local, const store::TimeZone& zone,
                                core::Clock& clock) {
    return ExecuteAggregate(request, local ? &local->store() : nullptr,
                            local ? &local->aggregates() : nullptr, zone, clock.NowUs());
  };
  command.render_text = [](const nlohmann::json& report) { return RenderRecomputeText(report); };
  return RunMaintenanceCommand(context, command);
}

}  // namespace

void RegisterAggregateCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<AggregateFlags>();
  auto* aggregate = app.add_subcommand(
      "aggregate",
      "recompute hourly/daily buckets from the raw readings still stored; rewrites only buckets "
      "whose readings are all still local");
  aggregate->add_option("SCOPE", flags->scope, "hourly, daily or full (both over all stored data)")
      ->required()
      ->check(CLI::IsMember({"hourly", "daily", "full"}));
  aggregate->add_option("--hours", flags->request.hours,
                        "hourly: the last N hours, the current one included (default 24)");
  aggregate->add_option(
      "--days", flags->request.days,
      "the last N days in [aggregate] timezone, today included (daily default 7)");
  aggregate->add_flag("--dry-run", flags->request.dry_run,
                      "count what would change, write nothing");
  aggregate->add_flag("--json", flags->json, "print the counts as JSON");
  aggregate->callback([&context, flags] { context.exit_code = RunAggregate(context, *flags); });
}

}  // namespace fieldsync::agent
