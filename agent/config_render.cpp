// RenderEffectiveConfig: the loaded Config back as TOML, walking the same key table as the
// loader so that every key appears with its effective value (defaults included).
#include <sstream>

#include "agent/config.hpp"
#include "agent/config_keys.hpp"
#include "agent/config_values.hpp"

namespace fieldsync::agent {
namespace {

std::string MetricHeader(const std::string& name) {
  bool bare = !name.empty() && name.find('.') == std::string::npos;
  return "metrics." + (bare ? name : TomlString(name));
}

template <class T>
void RenderKeys(std::ostringstream& out, std::span<const KeyRule<T>> rules, const T& target,
                const Config& config, const std::string& prefix) {
  for (const auto& rule : rules) {
    std::string key =
        prefix.empty() ? std::string(rule.name) : prefix + "." + std::string(rule.name);
    if (auto value = rule.render(target, config, key)) {
      out << rule.name << " = " << *value << "\n";
    }
  }
}

template <class T>
void RenderTable(std::ostringstream& out, const std::string& header,
                 std::span<const KeyRule<T>> rules, const T& target, const Config& config) {
  out << "\n[" << header << "]\n";
  RenderKeys(out, rules, target, config, header);
}

}  // namespace

std::string RenderEffectiveConfig(const Config& config) {
  std::ostringstream out;
  out << "# effective configuration";
  if (!config.source_path.empty()) out << " from " << config.source_path;
  out << "\n";
  RenderKeys(out, RootKeys(), config, config, "");
  RenderTable(out, "log", LogKeys(), config.log, config);
  RenderTable(out, "store", StoreKeys(), config.store, config);
  for (std::size_t i = 0; i < config.serial.size(); ++i) {
    out << "\n[[serial]]\n";
    RenderKeys(out, SerialKeys(), config.serial[i], config, "serial[" + std::to_string(i) + "]");
  }
  for (std::size_t i = 0; i < config.mqtt.size(); ++i) {
    out << "\n[[mqtt]]\n";
    RenderKeys(out, MqttKeys(), config.mqtt[i], config, "mqtt[" + std::to_string(i) + "]");
  }
  RenderTable(out, "http", HttpKeys(), config.http, config);
  RenderTable(out, "aggregate", AggregateKeys(), config.aggregate, config);
  for (const auto& [name, spec] : config.metrics) {
    MetricDraft draft;
    draft.spec = spec;
    RenderTable(out, MetricHeader(name), MetricKeys(), draft, config);
  }
  RenderTable(out, "clock", ClockKeys(), config.clock, config);
  RenderTable(out, "sync", SyncKeys(), config.sync, config);
  return out.str();
}

}  // namespace fieldsync::agent
