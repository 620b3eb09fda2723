#pragma once
// The effective configuration of one gateway (§6): a plain struct with the documented defaults.
// LoadConfig reads TOML, rejects unknown keys, wrong types and exclusive pairs with the key's name
// and line, and resolves secrets from *_file keys or the environment.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "core/metric_spec.hpp"
#include "drivers/input_specs.hpp"
#include "store/store_options.hpp"
#include "sync/sync_options.hpp"

namespace fieldsync::agent {

enum class LogFormat : unsigned char { kText, kJson };

struct LogOptions {
  std::string level = "info";  // trace debug info warn error
  LogFormat format = LogFormat::kText;
};

struct ClockOptions {
  bool trust_unsynced = false;
};

struct Config {
  std::string gateway;  // required
  std::string state_dir = "/var/lib/fieldsync";
  LogOptions log;
  store::StoreOptions store;
  std::vector<drivers::SerialSpec> serial;
  std::vector<drivers::MqttSpec> mqtt;
  drivers::HttpSpec http;
  store::AggregateOptions aggregate;
  std::map<std::string, core::MetricSpec> metrics;
  ClockOptions clock;
  sync::SyncOptions sync;
  std::string source_path;  // the file this was loaded from
};

// Reads and validates `path`. Errors are kInvalidArgument with "PATH:LINE: key 'a.b': ..." text.
// `env` lookups (FIELDSYNC_PG_URL, FIELDSYNC_API_KEY, CREDENTIALS_DIRECTORY) go through getenv.
core::Expected<Config> LoadConfig(const std::string& path);

// Same, from TOML text (for tests); `origin` names it in messages.
core::Expected<Config> ParseConfig(std::string_view toml_text, const std::string& origin);

// The path to read when --config is not given: $FIELDSYNC_CONFIG, else the system default.
std::string DefaultConfigPath();

// The effective settings as TOML, secrets replaced by "(redacted)" / "(unset)".
std::string RenderEffectiveConfig(const Config& config);

}  // namespace fieldsync::agent
