#pragma once
// The effective configuration of one gateway (§6): a plain struct with the documented defaults.
// LoadConfig reads TOML, rejects unknown keys, wrong types, out-of-range values and exclusive
// pairs with the key's full name and line, and resolves secrets from *_file keys or the
// environment. Every key is declared once, in agent/config_keys.cpp.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// Where a secret came from, so that `config check` can say it without showing it.
struct SecretOrigin {
  std::string file;  // the resolved path of its *_file key, when read from a file
  std::string env;   // the environment variable, when taken from the environment
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
  // Keyed by the secret's full key ("sync.url", "mqtt[0].password", "http.api_key").
  std::map<std::string, SecretOrigin> secret_origins;
  // Settings that are valid but probably not what the operator wants (printed by config check,
  // logged by run), e.g. acknowledging inputs with [store] synchronous = "normal".
  std::vector<std::string> warnings;
};

// Looks up an environment variable; nullopt when it is not set. The default reads getenv.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

// Reads and validates `path`. Errors are kInvalidArgument with "PATH:LINE: key 'a.b': ..." text
// (kNotFound / kIo when the file itself cannot be read). Reads FIELDSYNC_PG_URL,
// FIELDSYNC_API_KEY and CREDENTIALS_DIRECTORY through `env`.
core::Expected<Config> LoadConfig(const std::string& path,
                                  const EnvLookup& env = ProcessEnvironment());

// Same, from TOML text; `origin` names it in messages and its directory anchors relative
// *_file paths when $CREDENTIALS_DIRECTORY is not set.
core::Expected<Config> ParseConfig(std::string_view toml_text, const std::string& origin,
                                   const EnvLookup& env = ProcessEnvironment());

// The path to read when --config is not given: $FIELDSYNC_CONFIG, else the system default.
std::string DefaultConfigPath();
inline constexpr const char* kSystemConfigPath = "/etc/fieldsync/fieldsync.toml";

// The effective settings as TOML, every key of §6 in order; secrets appear only as
// "(redacted)" or "(unset)" with a comment saying where they came from.
std::string RenderEffectiveConfig(const Config& config);

}  // namespace fieldsync::agent
