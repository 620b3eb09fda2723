#include "agent/control_commands.hpp"

#include <utility>

namespace fieldsync::agent {

void RunCommandRegistry::Register(const std::string& command, RunCommandHandler handler) {
  handlers_[command] = std::move(handler);
}

void RunCommandRegistry::Unregister(const std::string& command) { handlers_.erase(command); }

void RunCommandRegistry::Dispatch(const std::string& command, const nlohmann::json& args,
                                  RunCommandDone done) const {
  auto it = handlers_.find(command);
  if (it == handlers_.end() || !it->second) {
    done(core::MakeError(core::Errc::kUnsupported, command + " is not available in this agent"));
    return;
  }
  // A copy: the handler may unregister itself (e.g. on reload) while it runs.
  RunCommandHandler handler = it->second;
  handler(args, std::move(done));
}

}  // namespace fieldsync::agent
