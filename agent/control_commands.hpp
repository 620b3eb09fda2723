#pragma once
// RunCommandRegistry: the commands a running agent carries out on request (the `run` request of
// the control socket; POST /api/run can use the same registry). Each part of the service that can
// do one of sync, aggregate, backfill or cleanup registers a handler under that name; a name
// nobody registered is answered "not available in this agent".
//
// A handler gets the request's arguments (a JSON object, e.g. {"once": true, "dry_run": false})
// and must call `done` exactly once, now or later, with a JSON result or an Error whose message is
// fit to show to the user.
//
// Thread-safety: none; register, unregister and dispatch on the event loop thread. `done` must
// also be called on that thread.

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>

#include "core/expected.hpp"

namespace fieldsync::agent {

using RunCommandDone = std::function<void(core::Expected<nlohmann::json>)>;
using RunCommandHandler = std::function<void(const nlohmann::json& args, RunCommandDone done)>;

class RunCommandRegistry {
 public:
  // Registers (or replaces) the handler for `command`.
  void Register(const std::string& command, RunCommandHandler handler);
  void Unregister(const std::string& command);
  bool Has(const std::string& command) const { return handlers_.count(command) != 0; }

  // Calls the handler of `command`, or `done` at once with kUnsupported
  // ("<command> is not available in this agent").
  void Dispatch(const std::string& command, const nlohmann::json& args, RunCommandDone done) const;

 private:
  std::map<std::string, RunCommandHandler> handlers_;
};

}  // namespace fieldsync::agent
