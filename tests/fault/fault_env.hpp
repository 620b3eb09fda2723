#pragma once
// What the fault tests need from the harness (tests/support/services.sh), and their size:
// quick by default, the full version with FIELDSYNC_FAULT_FULL=1.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace fieldsync::testing {

inline bool FaultFull() {
  const char* full = std::getenv("FIELDSYNC_FAULT_FULL");
  return full != nullptr && std::string(full) == "1";
}

// The value of `name`, or nullopt after a visible SKIPPED line.
inline std::optional<std::string> RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    std::fprintf(stderr, "\nSKIPPED: %s not set\n", name);
    return std::nullopt;
  }
  return std::string(value);
}

inline bool RunScript(const std::string& script) { return std::system(script.c_str()) == 0; }

}  // namespace fieldsync::testing
