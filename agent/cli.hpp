#pragma once
// The command line of §7. Exit status: 0 success, 1 runtime failure, 2 usage or config error.

namespace fieldsync::agent {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Main(int argc, char** argv);

}  // namespace fieldsync::agent
