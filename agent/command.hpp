#pragma once
// How a subcommand plugs into the command line: each lives in agent/commands/<name>.cpp and
// exposes one Register function that adds its CLI11 subcommand. The callback stores the exit
// status in CommandContext::exit_code (kExitOk / kExitFailure / kExitUsage).

#include <CLI/CLI.hpp>

#include <string>

#include "agent/config.hpp"
#include "core/expected.hpp"

namespace fieldsync::agent {

struct CommandContext {
  std::string config_path;  // --config; empty: $FIELDSYNC_CONFIG or the system default
  int exit_code = 0;

  // Loads the configuration named by --config / $FIELDSYNC_CONFIG / the default path.
  core::Expected<Config> LoadConfig() const;
};

using RegisterCommand = void (*)(CLI::App& app, CommandContext& context);

// One line per command, in the order --help lists them.
void RegisterConfigCommand(CLI::App& app, CommandContext& context);
void RegisterIngestCommand(CLI::App& app, CommandContext& context);
void RegisterStatusCommand(CLI::App& app, CommandContext& context);
void RegisterRunCommand(CLI::App& app, CommandContext& context);
void RegisterTransferCommand(CLI::App& app, CommandContext& context);
void RegisterSyncCommand(CLI::App& app, CommandContext& context);
void RegisterRemoteCommand(CLI::App& app, CommandContext& context);
void RegisterAggregateCommand(CLI::App& app, CommandContext& context);
void RegisterBackfillCommand(CLI::App& app, CommandContext& context);
void RegisterCleanupCommand(CLI::App& app, CommandContext& context);
void RegisterQuarantineCommand(CLI::App& app, CommandContext& context);

}  // namespace fieldsync::agent
