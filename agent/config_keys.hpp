#pragma once
// The configuration key table (§6): every key of every section, declared once with its type,
// description, how it is read (checked and stored into the plain struct whose member initialiser
// holds the default) and how it is rendered back for `config check`. The loader
// (config.cpp) walks TOML tables against these rules; the renderer walks the same rules.

#include <toml++/toml.h>

#include <array>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/config.hpp"
#include "core/expected.hpp"
#include "core/metric_spec.hpp"

namespace fieldsync::agent {

// What a setter needs besides the value: the key's full name (for secrets' origins), the
// environment, and where relative *_file paths start.
struct KeyContext {
  std::string key;  // e.g. "mqtt[0].password_file"
  const EnvLookup& env;
  std::string base_dir;  // the config file's directory; $CREDENTIALS_DIRECTORY wins when set
  Config& config;        // receives secret origins
};

template <class T>
struct KeyRule {
  std::string_view name;
  std::string_view type;  // for people: "integer 1..", "json | kv | csv"
  std::string_view description;
  // Checks `value` and stores it; the error message says what was expected (no key, no line).
  std::function<core::Status(T& target, const toml::node& value, KeyContext& context)> set;
  // The right-hand side of `name = ...` for config check, or nullopt to leave the key out.
  // `key` is the full name, used to find a secret's origin.
  std::function<std::optional<std::string>(const T& target, const Config& config,
                                           const std::string& key)>
      render;
};

// One [metrics.NAME] table while it is read: `critical` and `critical_margin` exclude each other
// and the profile needs `optimal`, so the profile is resolved after all its keys are seen.
struct MetricDraft {
  core::MetricSpec spec;
  std::optional<std::array<double, 2>> optimal;
  std::optional<std::array<double, 2>> critical;
  std::optional<double> critical_margin;
};

std::span<const KeyRule<Config>> RootKeys();  // gateway, state_dir
std::span<const KeyRule<LogOptions>> LogKeys();
std::span<const KeyRule<store::StoreOptions>> StoreKeys();
std::span<const KeyRule<drivers::SerialSpec>> SerialKeys();
std::span<const KeyRule<drivers::MqttSpec>> MqttKeys();
std::span<const KeyRule<drivers::HttpSpec>> HttpKeys();
std::span<const KeyRule<store::AggregateOptions>> AggregateKeys();
std::span<const KeyRule<MetricDraft>> MetricKeys();
std::span<const KeyRule<ClockOptions>> ClockKeys();
std::span<const KeyRule<sync::SyncOptions>> SyncKeys();

// Baud rates the serial driver can set through termios.
bool IsSupportedBaud(unsigned baud);

}  // namespace fieldsync::agent
