#pragma once
// Runs the built `fieldsync` binary (path from FIELDSYNC_BINARY) through /bin/sh and captures its
// exit status, stdout and stderr, for the command-line integration tests.

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace fieldsync::testing {

struct CommandOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `args` is appended to the binary's path as shell text (quote what needs quoting).
inline CommandOutput RunFieldsync(const TempDir& dir, const std::string& args,
                                  const std::string& env = "") {
  std::string command = env + " '" FIELDSYNC_BINARY "' " + args + " >'" + dir.File("stdout") +
                        "' 2>'" + dir.File("stderr") + "'";
  int status = std::system(command.c_str());
  CommandOutput output;
  output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  output.out = ReadFile(dir.File("stdout"));
  output.err = ReadFile(dir.File("stderr"));
  return output;
}

}  // namespace fieldsync::testing
