// `fieldsync config check`: validate the configuration and print the effective settings
// (secrets redacted) on stdout; warnings and errors go to stderr.
#include <iostream>

#include "agent/cli.hpp"
#include "agent/command.hpp"

namespace fieldsync::agent {

void RegisterConfigCommand(CLI::App& app, CommandContext& context) {
  auto* config = app.add_subcommand("config", "configuration tools");
  config->require_subcommand(1);
  auto* check = config->add_subcommand(
      "check", "validate the config and print the effective settings (secrets redacted)");
  check->callback([&context] {
    auto loaded = context.LoadConfig();
    if (!loaded) {
      std::cerr << "fieldsync: " << loaded.error().message << "\n";
      context.exit_code = kExitUsage;
      return;
    }
    for (const auto& warning : loaded->warnings) {
      std::cerr << "fieldsync: warning: " << warning << "\n";
    }
    std::cout << RenderEffectiveConfig(*loaded);
    context.exit_code = kExitOk;
  });
}

}  // namespace fieldsync::agent
