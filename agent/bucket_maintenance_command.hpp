#pragma once
// How `aggregate`, `backfill` and `cleanup` reach the store (§3): directly, under the state lock,
// or, while `fieldsync run` holds that lock, as a `run` request on the agent's control socket
// (<state_dir>/control.sock, through control_client.hpp). The agent side of the same
// requests is BucketMaintenanceHandlers.
//
// Thread-safety: RunMaintenanceCommand runs on the command's thread; the handlers on the agent's
// event loop thread, like the store they borrow.

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>

#include "agent/command.hpp"
#include "agent/config.hpp"
#include "agent/control_commands.hpp"
#include "agent/local_store.hpp"
#include "core/clock.hpp"
#include "core/expected.hpp"
#include "store/time_zone.hpp"

namespace fieldsync::agent {

struct MaintenanceCommand {
  std::string name;     // "aggregate", "backfill", "cleanup": also the run request's command
  nlohmann::json args;  // the request as run-request arguments (bucket_maintenance.hpp)
  bool dry_run = false;
  bool json = false;  // print the report as JSON
  // Usage errors found before anything is opened (kInvalidArgument: exit 2).
  std::function<core::Status(const store::TimeZone& zone, core::TimeUs now)> validate;
  // The work on the local store; `local` null when no store exists yet.
  std::function<core::Expected<nlohmann::json>(const Config& config, LocalStore* local,
                                               const store::TimeZone& zone, core::Clock& clock)>
      run_local;
  std::function<std::string(const nlohmann::json& report)> render_text;
  // True when the report says the command failed after it printed (exit 1); may be empty.
  std::function<bool(const nlohmann::json& report)> failed;
};

// Loads the config (error: exit 2) and its zone, validates, takes the state lock and runs the
// command on the store, or forwards it to the running agent that holds the lock; prints the
// report (stdout) or the error (stderr). Returns the exit status.
int RunMaintenanceCommand(const CommandContext& context, const MaintenanceCommand& command);

// The run-request handlers "aggregate", "backfill" and "cleanup" for a running agent, working on
// its store; they answer at once (the work is synchronous on the loop). Backfill's report says
// that the agent's sync loop uploads the changed buckets. `store`, `aggregates` and `clock` must
// outlive the handlers; `config` is copied. Register each with RunCommandRegistry::Register.
std::map<std::string, RunCommandHandler> BucketMaintenanceHandlers(
    const Config& config, store::Store& store, store::AggregateStore& aggregates,
    core::Clock& clock);

}  // namespace fieldsync::agent
