#include "agent/cli.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#include "agent/command.hpp"

namespace fieldsync::agent {
namespace {

// One command per line (clang-format would pack them into columns).
// clang-format off
constexpr RegisterCommand kCommands[] = {
    RegisterConfigCommand,
    RegisterIngestCommand,
    RegisterStatusCommand,
    RegisterRunCommand,
    RegisterTransferCommand,
    RegisterSyncCommand,
    RegisterRemoteCommand,
    RegisterAggregateCommand,
    RegisterBackfillCommand,
    RegisterCleanupCommand,
    RegisterQuarantineCommand,
};
// clang-format on

}  // namespace

core::Expected<Config> CommandContext::LoadConfig() const {
  return agent::LoadConfig(config_path.empty() ? DefaultConfigPath() : config_path);
}

int Main(int argc, char** argv) {
  CLI::App app{"fieldsync: sensor readings from serial, MQTT and HTTP to PostgreSQL"};
  app.set_version_flag("--version", std::string("fieldsync ") + FIELDSYNC_VERSION);
  CommandContext context;
  app.add_option("--config", context.config_path,
                 "configuration file (TOML); default $FIELDSYNC_CONFIG, else "
                 "/etc/fieldsync/fieldsync.toml");
  app.require_subcommand(1);
  for (RegisterCommand add : kCommands) add(app, context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a mistyped command as a missing one; name what was typed instead.
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && app.get_subcommands().empty() &&
        !app.remaining().empty()) {
      std::cerr << "fieldsync: unknown command '" << app.remaining().front()
                << "' (fieldsync --help lists the commands)\n";
      return kExitUsage;
    }
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return context.exit_code;
}

}  // namespace fieldsync::agent
