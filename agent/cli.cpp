#include "agent/cli.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace fieldsync::agent {

int Main(int argc, char** argv) {
  CLI::App app{"fieldsync: sensor readings from serial, MQTT and HTTP to PostgreSQL"};
  app.set_version_flag("--version", std::string("fieldsync ") + FIELDSYNC_VERSION);
  std::string config_path;
  app.add_option("--config", config_path, "configuration file (TOML)");
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return kExitOk;
}

}  // namespace fieldsync::agent
