// `fieldsync status [--json]`: the §9 document. While `run` holds the state lock the document
// comes from the running agent over its control socket, with uptime_s and each input's live
// `connected`; otherwise it is read from the store under the lock (so that nothing else writes
// it meanwhile), with uptime_s and `connected` null. A gateway without a store gets a document
// of zeros and nothing is created.
#include <filesystem>
#include <iostream>
#include <optional>

#include "agent/cli.hpp"
#include "agent/command.hpp"
#include "agent/control_client.hpp"
#include "agent/local_store.hpp"
#include "agent/run_status.hpp"
#include "agent/status_document.hpp"
#include "store/state_lock.hpp"

namespace fieldsync::agent {
namespace {

constexpr std::chrono::milliseconds kStatusTimeout{10000};

void Print(const nlohmann::json& document, bool as_json) {
  if (as_json) {
    std::cout << document.dump(2) << "\n";
  } else {
    std::cout << RenderStatusText(document);
  }
}

int ShowStatus(const CommandContext& context, bool as_json) {
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
  std::error_code ec;
  if (!std::filesystem::is_directory(config->state_dir, ec)) {
    // Nothing ever ran here: no store, no agent.
    Print(BuildStatusDocument(*config, facts), as_json);
    return kExitOk;
  }
  // The lock tells whether an agent runs; holding it keeps writers out while the store is read.
  auto lock = store::StateLock::Acquire(config->state_dir);
  if (!lock && lock.error().code == core::Errc::kBusy) {
    auto live = CallAgent(ControlSocketPath(config->state_dir), ControlRequest{StatusRequest{}},
                          kStatusTimeout);
    if (!live) {
      std::cerr << "fieldsync: " << lock.error().message
                << ", but the agent does not answer on its control socket: " << live.error().message
                << "\n";
      return kExitFailure;
    }
    Print(*live, as_json);
    return kExitOk;
  }
  if (!lock) {
    std::cerr << "fieldsync: cannot read the store: " << lock.error().message << "\n";
    return kExitFailure;
  }
  // A gateway that never stored anything has no store yet; status must not create one.
  if (std::filesystem::exists(std::filesystem::path(config->state_dir) / "fieldsync.db", ec)) {
    auto local = LocalStore::Open(*config, clock);
    if (!local) {
      std::cerr << "fieldsync: cannot open the store in " << config->state_dir << ": "
                << local.error().message << "\n";
      return kExitFailure;
    }
    auto stored = CollectStoreFacts(**local, clock);
    if (!stored) {
      std::cerr << "fieldsync: cannot read the store: " << stored.error().message << "\n";
      return kExitFailure;
    }
    facts = std::move(*stored);
  }
  Print(BuildStatusDocument(*config, facts), as_json);
  return kExitOk;
}

}  // namespace

void RegisterStatusCommand(CLI::App& app, CommandContext& context) {
  auto* status =
      app.add_subcommand("status", "show the status document (pending, counters, inputs)");
  auto as_json = std::make_shared<bool>(false);
  status->add_flag("--json", *as_json, "print the status document as JSON");
  status->callback([&context, as_json] { context.exit_code = ShowStatus(context, *as_json); });
}

}  // namespace fieldsync::agent
