#include "tests/fault/fault_scenario.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include <libpq-fe.h>

#include "sync/pg_handles.hpp"
#include "tests/agent/run_net/agent_process.hpp"

namespace fieldsync::testing {

std::string WriteFaultConfig(const TempDir& dir, const FaultAgentConfig& config,
                             const std::string& name) {
  std::string text = "gateway = \"gw-fault\"\nstate_dir = \"" + config.state_dir +
                     "\"\n[clock]\ntrust_unsynced = true\n[http]\n";
  if (config.http_port == 0) {
    text += "listen = \"\"\n";
  } else {
    const std::string key_file = dir.File("api.key");
    WriteFile(key_file, std::string(kFaultApiKey) + "\n");
    ::chmod(key_file.c_str(), 0600);
    text += "listen = \"127.0.0.1:" + std::to_string(config.http_port) + "\"\napi_key_file = \"" +
            key_file + "\"\n";
  }
  if (!config.sync_url.empty()) {
    text += "[sync]\nurl = \"" + config.sync_url + "\"\nschema = \"" + config.sync_schema +
            "\"\nbatch_size = " + std::to_string(config.batch_size) +
            "\ninterval_s = " + std::to_string(config.interval_s) +
            "\nmax_backoff_s = " + std::to_string(config.max_backoff_s) +
            "\nop_timeout_s = " + std::to_string(config.op_timeout_s) + "\n";
  }
  text += config.extra;
  const std::string path = dir.File(name);
  WriteFile(path, text);
  return path;
}

void PrintPassLine(const std::string& scenario, const ScenarioTally& tally,
                   std::chrono::steady_clock::time_point started) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string line = "PASS " + scenario + ": generated=" + std::to_string(tally.generated) +
                     " acknowledged=" + std::to_string(tally.acknowledged) +
                     " stored_local=" + std::to_string(tally.stored_local) +
                     " landed_remote=" + std::to_string(tally.landed_remote) +
                     " duplicates=" + std::to_string(tally.duplicates) +
                     " integrity=" + tally.integrity;
  for (const auto& [name, value] : tally.extra) line += " " + name + "=" + value;
  char took[32];
  std::snprintf(took, sizeof took, " seconds=%.1f", seconds);
  // A line of its own, whatever CppUTest printed before it.
  std::printf("\n%s%s\n", line.c_str(), took);
  std::fflush(stdout);
}

long long VmRssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string word;
  while (status >> word) {
    if (word == "VmRSS:") {
      long long kib = -1;
      status >> kib;
      return kib;
    }
  }
  return -1;
}

long long LiveInputReadings(std::uint16_t port, const std::string& name) {
  auto status = LiveStatus(port);
  if (!status) return -1;
  for (const auto& input : status->at("inputs")) {
    if (input.at("name") == name) return input.at("readings").get<long long>();
  }
  return -1;
}

}  // namespace fieldsync::testing
