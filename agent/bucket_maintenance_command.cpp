#include "agent/bucket_maintenance_command.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "agent/bucket_maintenance.hpp"
#include "agent/cli.hpp"
#include "agent/control_client.hpp"
#include "agent/control_protocol.hpp"
#include "store/state_lock.hpp"

namespace fieldsync::agent {
namespace {

// A forwarded recompute of years of buckets may take a while on a slow gateway.
constexpr std::chrono::minutes kForwardTimeout{10};

int PrintError(const std::string& name, const core::Error& error) {
  std::cerr << "fieldsync: " << name << ": " << error.message << "\n";
  return error.code == core::Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

int PrintReport(const MaintenanceCommand& command, const nlohmann::json& report) {
  if (command.json) {
    std::cout << report.dump(2) << "\n";
  } else {
    std::cout << command.render_text(report);
  }
  return command.failed && command.failed(report) ? kExitFailure : kExitOk;
}

// The lock is held by another process, normally `fieldsync run`: hand the request to it.
int ForwardToAgent(const Config& config, const MaintenanceCommand& command,
                   const core::Error& busy) {
  auto answer =
      CallAgent(ControlSocketPath(config.state_dir),
                ControlRequest{RunRequestLine{command.name, command.args}}, kForwardTimeout);
  if (answer) return PrintReport(command, *answer);
  if (answer.error().code == core::Errc::kUnavailable) {
    std::cerr << "fieldsync: cannot " << command.name << ": " << busy.message
              << ", and no running agent answers on its control socket (" << answer.error().message
              << "); stop that process or retry when it has ended\n";
    return kExitFailure;
  }
  if (answer.error().code == core::Errc::kUnsupported) {
    std::cerr << "fieldsync: cannot " << command.name << ": " << busy.message
              << " (the running agent), which does not carry out " << command.name
              << " requests: " << answer.error().message << "\n";
    return kExitFailure;
  }
  return PrintError(command.name + " (by the running agent)", answer.error());
}

}  // namespace

int RunMaintenanceCommand(const CommandContext& context, const MaintenanceCommand& command) {
  auto config = context.LoadConfig();
  if (!config) {
    std::cerr << "fieldsync: " << config.error().message << "\n";
    return kExitUsage;
  }
  auto zone = store::TimeZone::FromName(config->aggregate.timezone);
  if (!zone) return PrintError(command.name, zone.error());
  core::SystemClock clock;
  if (auto valid = command.validate(*zone, clock.NowUs()); !valid) {
    return PrintError(command.name, valid.error());
  }

  const std::filesystem::path db = std::filesystem::path(config->state_dir) / "fieldsync.db";
  std::error_code ec;
  std::optional<store::StateLock> lock;
  std::unique_ptr<LocalStore> local;
  // A gateway that never stored anything has nothing to maintain; do not create a store for it.
  if (std::filesystem::exists(db, ec)) {
    auto acquired = store::StateLock::Acquire(config->state_dir);
    if (!acquired && acquired.error().code == core::Errc::kBusy) {
      return ForwardToAgent(*config, command, acquired.error());
    }
    if (!acquired) return PrintError(command.name, acquired.error());
    lock.emplace(std::move(*acquired));
    auto opened = LocalStore::Open(*config, clock);
    if (!opened) {
      return PrintError(command.name,
                        opened.error().Wrap("cannot open the store in " + config->state_dir));
    }
    local = std::move(*opened);
  }
  auto report = command.run_local(*config, local.get(), *zone, clock);
  if (!report) return PrintError(command.name, report.error());
  return PrintReport(command, *report);
}

std::map<std::string, RunCommandHandler> BucketMaintenanceHandlers(
    const Config& config, store::Store& store, store::AggregateStore& aggregates,
    core::Clock& clock) {
  std::map<std::string, RunCommandHandler> handlers;
  handlers["aggregate"] = [&store, &aggregates, &clock](const nlohmann::json& args,
                                                        RunCommandDone done) {
    auto request = AggregateRequestFromJson(args);
    if (!request) return done(request.error());
    done(ExecuteAggregate(*request, &store, &aggregates, aggregates.zone(), clock.NowUs()));
  };
  const bool remote = !config.sync.url.empty();
  handlers["backfill"] = [&aggregates, &clock, remote](const nlohmann::json& args,
                                                       RunCommandDone done) {
    auto request = BackfillRequestFromJson(args);
    if (!request) return done(request.error());
    auto report = ExecuteBackfill(*request, &aggregates, aggregates.zone(), clock.NowUs());
    if (report && !request->dry_run) {
      (*report)["upload"] = {
          {"status", remote ? "queued" : "local_only"},
          {"message", remote ? "the agent's sync loop uploads the changed buckets"
                             : "no remote configured ([sync] url)"}};
    }
    done(std::move(report));
  };
  const store::AggregateOptions options = config.aggregate;
  handlers["cleanup"] = [&aggregates, &clock, options](const nlohmann::json& args,
                                                       RunCommandDone done) {
    auto request = CleanupRequestFromJson(args);
    if (!request) return done(request.error());
    done(ExecuteCleanup(*request, &aggregates, options, clock.NowUs()));
  };
  return handlers;
}

}  // namespace fieldsync::agent
