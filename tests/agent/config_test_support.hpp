#pragma once
// Shared by the configuration tests: parse TOML text with a controlled environment.

#include <map>
#include <string>

#include "agent/config.hpp"

namespace fieldsync::testing {

inline agent::EnvLookup FakeEnvironment(std::map<std::string, std::string> vars = {}) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// The error message of a config that must fail; "" when it unexpectedly parsed.
inline std::string ConfigError(const std::string& text,
                               const agent::EnvLookup& env = FakeEnvironment()) {
  auto config = agent::ParseConfig(text, "/etc/fs/test.toml", env);
  return config ? std::string() : config.error().message;
}

}  // namespace fieldsync::testing
