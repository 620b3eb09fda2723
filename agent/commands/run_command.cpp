// `fieldsync run`: the service (§7). Everything it does is in agent/run_service.
#include "agent/cli.hpp"
#include "agent/command.hpp"
#include "agent/run_service.hpp"

namespace fieldsync::agent {

void RegisterRunCommand(CLI::App& app, CommandContext& context) {
  auto* run = app.add_subcommand(
      "run",
      "the service: all inputs, grouped commits, systemd notify; SIGTERM stops, SIGHUP "
      "reloads");
  run->callback(
      [&context] { context.exit_code = RunService([&context] { return context.LoadConfig(); }); });
}

}  // namespace fieldsync::agent
