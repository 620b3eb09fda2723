// Loading the configuration: TOML text -> Config, walking each table against the key table of
// config_keys.cpp, then the rules that span keys (required keys, exclusive pairs, profiles,
// unique input names, secrets from the environment, warnings).
#include "agent/config.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "agent/config_keys.hpp"
#include "core/names.hpp"

namespace fieldsync::agent {
namespace {

using core::Errc;
using core::MakeError;

constexpr double kDefaultCriticalMargin = 0.20;

// A key path segment as TOML would write it: bare when it can be, else quoted.
std::string Segment(std::string_view name) {
  bool bare = !name.empty();
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    bare = bare && ok;
  }
  return bare ? std::string(name) : "\"" + std::string(name) + "\"";
}

std::string Join(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? Segment(name) : prefix + "." + Segment(name);
}

class Loader {
 public:
  Loader(std::string origin, const EnvLookup& env) : origin_(std::move(origin)), env_(env) {
    auto dir = std::filesystem::path(origin_).parent_path();
    base_dir_ = dir.empty() ? "." : dir.string();
    config_.source_path = origin_;
  }

  core::Expected<Config> Load(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, origin_);
    } catch (const toml::parse_error& e) {
      return MakeError(Errc::kInvalidArgument,
                       origin_ + ":" + std::to_string(e.source().begin.line) +
                           ": not valid TOML: " + std::string(e.description()));
    }
    if (auto s = LoadRoot(root); !s) return s.error();
    if (auto s = CheckInputs(); !s) return s.error();
    ApplyEnvironment();
    CollectWarnings();
    return std::move(config_);
  }

 private:
  core::Error Fail(const toml::source_region& where, const std::string& key,
                   const std::string& message) const {
    return MakeError(Errc::kInvalidArgument, origin_ + ":" + std::to_string(where.begin.line) +
                                                 ": key '" + key + "': " + message);
  }
  core::Error FailNoLine(const std::string& key, const std::string& message) const {
    return MakeError(Errc::kInvalidArgument, origin_ + ": key '" + key + "': " + message);
  }

  template <class T>
  core::Status Apply(const toml::table& table, std::span<const KeyRule<T>> rules, T& target,
                     const std::string& prefix) {
    for (auto&& [name, node] : table) {
      if (auto s = ApplyOne(name, node, rules, target, prefix, Known(rules)); !s) return s;
    }
    return core::Ok();
  }

  template <class T>
  core::Status ApplyOne(const toml::key& name, const toml::node& node,
                        std::span<const KeyRule<T>> rules, T& target, const std::string& prefix,
                        const std::string& known) {
    std::string key = Join(prefix, name.str());
    for (const auto& rule : rules) {
      if (rule.name != name.str()) continue;
      KeyContext context{key, env_, base_dir_, config_};
      if (auto s = rule.set(target, node, context); !s) {
        return Fail(node.source(), key, s.error().message);
      }
      return core::Ok();
    }
    return Fail(name.source(), key, "unknown key" + known);
  }

  template <class T>
  static std::string Known(std::span<const KeyRule<T>> rules) {
    std::string out;
    for (const auto& r : rules) out += (out.empty() ? "" : ", ") + std::string(r.name);
    return " (known here: " + out + ")";
  }

  template <class T>
  core::Status Section(const toml::node& node, const std::string& key,
                       std::span<const KeyRule<T>> rules, T& target) {
    const auto* table = node.as_table();
    if (table == nullptr) return Fail(node.source(), key, "expected a table [" + key + "]");
    return Apply(*table, rules, target, key);
  }

  // [[serial]] / [[mqtt]]: an array of tables, each one input.
  template <class T>
  core::Status Inputs(const toml::node& node, const std::string& key,
                      std::span<const KeyRule<T>> rules, std::vector<T>& out,
                      std::vector<toml::source_region>& sources) {
    const auto* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return Fail(node.source(), key, "expected [[" + key + "]] tables, one per input");
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      T spec;
      std::string item_key = key + "[" + std::to_string(i) + "]";
      if (auto s = Apply(*array->get(i)->as_table(), rules, spec, item_key); !s) return s;
      out.push_back(std::move(spec));
      sources.push_back(array->get(i)->source());
    }
    return core::Ok();
  }

  // Two keys of one table that exclude each other: the later one is reported.
  core::Status Exclusive(const toml::table& table, const std::string& prefix, const char* a,
                         const char* b) const {
    const toml::node* na = table.get(a);
    const toml::node* nb = table.get(b);
    auto set = [](const toml::node* n) {
      return n != nullptr && !(n->is_string() && n->as_string()->get().empty());
    };
    if (!set(na) || !set(nb)) return core::Ok();
    bool b_later = nb->source().begin.line >= na->source().begin.line;
    const toml::node* later = b_later ? nb : na;
    const toml::node* earlier = b_later ? na : nb;
    return Fail(later->source(), Join(prefix, b_later ? b : a),
                std::string("cannot be combined with '") + Join(prefix, b_later ? a : b) +
                    "' (line " + std::to_string(earlier->source().begin.line) + "); set only one");
  }

  core::Status LoadRoot(const toml::table& root) {
    for (auto&& [name, node] : root) {
      std::string key(name.str());
      core::Status s;
      if (key == "log") {
        s = Section(node, key, LogKeys(), config_.log);
      } else if (key == "store") {
        s = Section(node, key, StoreKeys(), config_.store);
      } else if (key == "http") {
        s = Section(node, key, HttpKeys(), config_.http);
      } else if (key == "aggregate") {
        s = Section(node, key, AggregateKeys(), config_.aggregate);
      } else if (key == "clock") {
        s = Section(node, key, ClockKeys(), config_.clock);
      } else if (key == "sync") {
        if (node.is_table()) s = Exclusive(*node.as_table(), key, "url", "url_file");
        if (s) s = Section(node, key, SyncKeys(), config_.sync);
      } else if (key == "serial") {
        s = Inputs(node, key, SerialKeys(), config_.serial, serial_sources_);
      } else if (key == "mqtt") {
        s = Inputs(node, key, MqttKeys(), config_.mqtt, mqtt_sources_);
      } else if (key == "metrics") {
        s = Metrics(node);
      } else {
        s = ApplyOne(name, node, RootKeys(), config_, "",
                     " (known at the top: gateway, state_dir, [log], [store], [[serial]], "
                     "[[mqtt]], [http], [aggregate], [metrics.NAME], [clock], [sync])");
      }
      if (!s) return s;
    }
    if (config_.gateway.empty()) {
      return FailNoLine("gateway",
                        "required: this gateway's name, e.g. gateway = \"greenhouse-1\"");
    }
    return core::Ok();
  }

  core::Status Metrics(const toml::node& node) {
    const auto* table = node.as_table();
    if (table == nullptr) return Fail(node.source(), "metrics", "expected [metrics.NAME] tables");
    for (auto&& [name, value] : *table) {
      std::string key = Join("metrics", name.str());
      if (!core::IsValidMetric(name.str())) {
        return Fail(name.source(), key, "not a valid metric name (1-64 of [A-Za-z0-9_.-])");
      }
      const auto* metric = value.as_table();
      if (metric == nullptr) return Fail(value.source(), key, "expected a table [" + key + "]");
      if (auto s = Exclusive(*metric, key, "critical", "critical_margin"); !s) return s;
      MetricDraft draft;
      if (auto s = Apply(*metric, MetricKeys(), draft, key); !s) return s;
      if (auto s = ResolveProfile(*metric, key, draft); !s) return s;
      config_.metrics[std::string(name.str())] = std::move(draft.spec);
    }
    return core::Ok();
  }

  core::Status ResolveProfile(const toml::table& metric, const std::string& key,
                              MetricDraft& draft) const {
    if (!draft.optimal) {
      for (const char* needs : {"critical", "critical_margin"}) {
        if (const auto* n = metric.get(needs)) {
          return Fail(n->source(), Join(key, needs), "needs 'optimal = [lo, hi]' in this table");
        }
      }
      return core::Ok();
    }
    auto [lo, hi] = *draft.optimal;
    if (draft.critical) {
      auto [clo, chi] = *draft.critical;
      if (clo > lo || chi < hi) {
        return Fail(metric.get("critical")->source(), Join(key, "critical"),
                    "expected bounds around the optimal range (critical low <= optimal low, "
                    "critical high >= optimal high)");
      }
      draft.spec.profile = core::ConditionProfile{lo, hi, clo, chi};
    } else {
      draft.spec.profile =
          core::ProfileFromMargin(lo, hi, draft.critical_margin.value_or(kDefaultCriticalMargin));
    }
    return core::Ok();
  }

  core::Status CheckInputs() {
    std::set<std::string> names = {"http", "ingest"};  // names the store uses for those inputs
    // Each check names the input's table header line: a missing key has no line of its own.
    auto check = [&](bool ok, const toml::source_region& where, const std::string& key,
                     const std::string& what) -> core::Status {
      return ok ? core::Ok() : core::Status(Fail(where, key, what));
    };
    auto unique = [&](const std::string& name) { return names.insert(name).second; };
    const std::string kUsed = "is already used by another input (or reserved: http, ingest)";
    for (std::size_t i = 0; i < config_.serial.size(); ++i) {
      const auto& s = config_.serial[i];
      const auto& at = serial_sources_[i];
      std::string item = "serial[" + std::to_string(i) + "]";
      for (const core::Status& r :
           {check(!s.name.empty(), at, item + ".name", "required (the input's name)"),
            check(s.name.empty() || unique(s.name), at, item + ".name",
                  "\"" + s.name + "\" " + kUsed),
            check(!s.port.empty(), at, item + ".port", "required (the serial device path)"),
            check(s.frame.format != drivers::FrameFormat::kCsv || !s.frame.fields.empty(), at,
                  item + ".fields", "required with format = \"csv\" (the column names)")}) {
        if (!r) return r;
      }
    }
    for (std::size_t i = 0; i < config_.mqtt.size(); ++i) {
      auto& m = config_.mqtt[i];
      const auto& at = mqtt_sources_[i];
      std::string item = "mqtt[" + std::to_string(i) + "]";
      for (const core::Status& r :
           {check(!m.name.empty(), at, item + ".name", "required (the input's name)"),
            check(m.name.empty() || unique(m.name), at, item + ".name",
                  "\"" + m.name + "\" " + kUsed),
            check(!m.topics.empty(), at, item + ".topics", "required: at least one topic"),
            check(m.frame.format != drivers::FrameFormat::kCsv || !m.frame.fields.empty(), at,
                  item + ".fields", "required with format = \"csv\" (the column names)"),
            check(m.cert_file.empty() == m.key_file.empty(), at, item + ".key_file",
                  "cert_file and key_file go together")}) {
        if (!r) return r;
      }
      if (m.client_id.empty()) m.client_id = "fieldsync-" + config_.gateway;
    }
    return core::Ok();
  }

  // Precedence: a value in the file (or its *_file) wins over the environment.
  void ApplyEnvironment() {
    auto fill = [&](std::string& secret, const char* secret_key, const char* variable) {
      if (!secret.empty()) return;
      auto value = env_(variable);
      if (!value || value->empty()) return;
      secret = *value;
      config_.secret_origins[secret_key] = SecretOrigin{"", variable};
    };
    fill(config_.sync.url, "sync.url", "FIELDSYNC_PG_URL");
    fill(config_.http.api_key, "http.api_key", "FIELDSYNC_API_KEY");
  }

  void CollectWarnings() {
    if (config_.store.synchronous != store::Synchronous::kNormal) return;
    const std::string why =
        " while [store] synchronous = \"normal\": an acknowledged frame may be lost on a power "
        "cut; use synchronous = \"full\" or turn the acknowledgement off";
    for (const auto& s : config_.serial) {
      if (s.ack) config_.warnings.push_back("serial input '" + s.name + "' has ack = true" + why);
    }
    for (const auto& m : config_.mqtt) {
      if (m.ack == drivers::MqttAck::kDurable) {
        config_.warnings.push_back("mqtt input '" + m.name + "' has ack = \"durable\"" + why);
      }
    }
    if (!config_.http.listen.empty()) {
      config_.warnings.push_back("HTTP answers 202 to POST /api/data (listen = \"" +
                                 config_.http.listen + "\")" + why);
    }
  }

  std::string origin_;
  const EnvLookup& env_;
  std::string base_dir_;
  Config config_;
  std::vector<toml::source_region> serial_sources_;  // the [[serial]] header of each input
  std::vector<toml::source_region> mqtt_sources_;
};

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

core::Expected<Config> ParseConfig(std::string_view toml_text, const std::string& origin,
                                   const EnvLookup& env) {
  return Loader(origin, env).Load(toml_text);
}

core::Expected<Config> LoadConfig(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return MakeError(err == ENOENT ? Errc::kNotFound : Errc::kIo,
                     "cannot read configuration '" + path + "': " + std::strerror(err) +
                         " (give --config PATH or set $FIELDSYNC_CONFIG)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path, env);
}

std::string DefaultConfigPath() {
  const char* path = std::getenv("FIELDSYNC_CONFIG");
  return path != nullptr && *path != '\0' ? path : kSystemConfigPath;
}

}  // namespace fieldsync::agent
