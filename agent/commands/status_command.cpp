// `fieldsync status [--json]`: the §9 document from the local store. Without a running agent
// uptime_s and each input's `connected` are null.
#include <filesystem>
#include <iostream>

#include "agent/cli.hpp"
#include "agent/command.hpp"
#include "agent/local_store.hpp"
#include "agent/status_document.hpp"

namespace fieldsync::agent {
namespace {

int RunStatus(const CommandContext& context, bool as_json) {
  auto config = context.LoadConfig();
  if (!config) {
    std::cerr << "fieldsync: " << config.error().message << "\n";
    return kExitUsage;
  }
  core::SystemClock clock;
  StatusFacts facts;
  facts.version = FIELDSYNC_VERSION;
  facts.clock_synced = clock.IsSynchronized();
  facts.stats.max_bytes = config->store.max_mb * 1024 * 1024;
  // A gateway that never stored anything has no store yet; status must not create one.
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(config->state_dir) / "fieldsync.db", ec)) {
    auto local = LocalStore::Open(*config, clock);
    if (!local) {
      std::cerr << "fieldsync: cannot open the store in " << config->state_dir << ": "
                << local.error().message << "\n";
      return kExitFailure;
    }
    auto stats = (*local)->store().Stats();
    if (!stats) {
      std::cerr << "fieldsync: cannot read the store: " << stats.error().message << "\n";
      return kExitFailure;
    }
    facts.stats = std::move(*stats);
    facts.instance_id = (*local)->store().instance_id();
    auto pending = (*local)->aggregates().PendingCount();
    if (pending) facts.pending_aggregates = *pending;
    store::Watermarks marks = (*local)->aggregates().WatermarksAt(clock.NowUs());
    facts.hourly_watermark = marks.hourly;
    facts.daily_watermark = marks.daily;
  }
  nlohmann::json document = BuildStatusDocument(*config, facts);
  if (as_json) {
    std::cout << document.dump(2) << "\n";
  } else {
    std::cout << RenderStatusText(document);
  }
  return kExitOk;
}

}  // namespace

void RegisterStatusCommand(CLI::App& app, CommandContext& context) {
  auto* status =
      app.add_subcommand("status", "show the status document (pending, counters, inputs)");
  auto as_json = std::make_shared<bool>(false);
  status->add_flag("--json", *as_json, "print the status document as JSON");
  status->callback([&context, as_json] { context.exit_code = RunStatus(context, *as_json); });
}

}  // namespace fieldsync::agent
