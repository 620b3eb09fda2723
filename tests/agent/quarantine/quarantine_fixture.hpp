#pragma once
// A gateway directory for the quarantine tests: a config file, its state_dir, and the built
// binary run against it.

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "agent/local_store.hpp"
#include "core/clock.hpp"
#include "tests/agent/command_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace fieldsync::testing {

struct Gateway {
  TempDir dir;
  std::string config = dir.File("fieldsync.toml");
  std::string state = dir.File("state");

  // `extra` is appended to the config (e.g. a [sync] table).
  explicit Gateway(const std::string& extra = "") {
    WriteFile(config,
              "gateway = \"gw-q\"\nstate_dir = \"" + state + "\"\n[http]\nlisten = \"\"\n" + extra);
  }

  CommandOutput Run(const std::string& args) const {
    return RunFieldsync(dir, "--config '" + config + "' " + args);
  }

  // The gateway's store with its aggregates, as the agent opens it (null when that fails).
  std::unique_ptr<agent::LocalStore> OpenLocal(core::Clock& clock) const {
    agent::Config local;
    local.state_dir = state;
    auto opened = agent::LocalStore::Open(local, clock);
    return opened ? std::move(*opened) : nullptr;
  }

  // Runs a command that prints JSON and must succeed.
  nlohmann::json Json(const std::string& args) const {
    CommandOutput r = Run(args);
    if (r.exit_code != 0) return nlohmann::json{{"exit_code", r.exit_code}, {"err", r.err}};
    nlohmann::json parsed = nlohmann::json::parse(r.out, nullptr, false);
    if (parsed.is_discarded()) return nlohmann::json{{"not_json", r.out + r.err}};
    return parsed;
  }
};

// One JSON frame of device dev1 at 2023-11-14T22:13:20Z + i s.
inline std::string Frame(int i, double value) {
  return "{\"device\":\"dev1\",\"ts\":" + std::to_string(1700000000 + i) +
         ",\"temp\":" + std::to_string(value) + "}\n";
}

}  // namespace fieldsync::testing
