#include "agent/config_keys.hpp"

#include <algorithm>
#include <climits>
#include <limits>
#include <vector>

#include "agent/config_rules.hpp"
#include "agent/config_values.hpp"
#include "core/names.hpp"
#include "drivers/topic_template.hpp"
#include "store/time_zone.hpp"

namespace fieldsync::agent {
namespace {

using namespace rules;  // NOLINT: the table below is written in the factories' terms

constexpr EnumName<drivers::FrameFormat> kFormats[] = {{"json", drivers::FrameFormat::kJson},
                                                       {"kv", drivers::FrameFormat::kKv},
                                                       {"csv", drivers::FrameFormat::kCsv}};
constexpr EnumName<drivers::Checksum> kChecksums[] = {{"none", drivers::Checksum::kNone},
                                                      {"nmea", drivers::Checksum::kNmea}};
constexpr EnumName<drivers::MqttAck> kMqttAcks[] = {{"durable", drivers::MqttAck::kDurable},
                                                    {"received", drivers::MqttAck::kReceived}};
constexpr EnumName<store::OnFull> kOnFull[] = {{"drop_oldest", store::OnFull::kDropOldest},
                                               {"reject_new", store::OnFull::kRejectNew}};
constexpr EnumName<store::Synchronous> kSynchronous[] = {{"full", store::Synchronous::kFull},
                                                         {"normal", store::Synchronous::kNormal}};
constexpr EnumName<LogFormat> kLogFormats[] = {{"text", LogFormat::kText},
                                               {"json", LogFormat::kJson}};
constexpr EnumName<std::string_view> kLogLevels[] = {
    {"trace", "trace"}, {"debug", "debug"}, {"info", "info"}, {"warn", "warn"}, {"error", "error"}};
constexpr EnumName<core::MetricKind> kKinds[] = {{"gauge", core::MetricKind::kGauge},
                                                 {"counter", core::MetricKind::kCounter}};

constexpr unsigned kBaudRates[] = {
    50,     75,     110,     134,     150,     200,     300,     600,     1200,    1800,
    2400,   4800,   9600,    19200,   38400,   57600,   115200,  230400,  460800,  500000,
    576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000};

bool IsDeviceName(std::string_view s) { return core::IsValidDevice(s); }
bool IsSqlIdentifier(std::string_view s) { return core::IsValidSqlIdentifier(s); }
bool IsKnownTimeZone(std::string_view s) { return store::TimeZone::FromName(s).has_value(); }
bool IsMqttUrl(std::string_view s) { return s.starts_with("tcp://") || s.starts_with("ssl://"); }

// host:port or [v6]:port with a port in 1..65535.
bool IsListenAddress(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

template <class T>
std::span<const KeyRule<T>> Span(const std::vector<KeyRule<T>>& rules) {
  return {rules.data(), rules.size()};
}

// The key tables, one per section. Built before main; read-only afterwards.

const std::vector<KeyRule<Config>> kRootKeys = {
    Text<Config>(
        "gateway", "this gateway's name (required; device-name characters)",
        [](auto& c) -> auto& { return c.gateway; }, IsDeviceName,
        "1-64 characters of [A-Za-z0-9_.:-]"),
    Text<Config>(
        "state_dir", "where the store, its lock and the control socket live",
        [](auto& c) -> auto& { return c.state_dir; }),
};

const std::vector<KeyRule<LogOptions>> kLogKeys = {
    {"level", "enum", "trace | debug | info | warn | error",
     [](LogOptions& t, const toml::node& node, KeyContext&) -> core::Status {
       auto v = ReadEnum(node, std::span<const EnumName<std::string_view>>(kLogLevels));
       if (!v) return v.error();
       t.level = std::string(*v);
       return core::Ok();
     },
     [](const LogOptions& t, const Config&, const std::string&) -> std::optional<std::string> {
       return TomlString(t.level);
     }},
    Enum<LogOptions>(
        "format", "text | json", kLogFormats, [](auto& t) -> auto& { return t.format; }),
};

const std::vector<KeyRule<store::StoreOptions>> kStoreKeys = {
    Integer<store::StoreOptions>(
        "max_mb", "the store never grows past this many MiB",
        [](auto& t) -> auto& { return t.max_mb; }, 1),
    Enum<store::StoreOptions>(
        "on_full", "drop_oldest | reject_new", kOnFull, [](auto& t) -> auto& { return t.on_full; }),
    Enum<store::StoreOptions>(
        "synchronous", "full | normal (normal may lose the last commits on power loss)",
        kSynchronous, [](auto& t) -> auto& { return t.synchronous; }),
};

const std::vector<KeyRule<drivers::SerialSpec>> kSerialKeys = {
    Text<drivers::SerialSpec>(
        "name", "the input's name (required, unique)", [](auto& t) -> auto& { return t.name; },
        IsDeviceName, "1-64 characters of [A-Za-z0-9_.:-]"),
    Text<drivers::SerialSpec>(
        "port", "the serial device (required); prefer /dev/serial/by-id/...",
        [](auto& t) -> auto& { return t.port; }),
    {"baud", "integer", "a termios baud rate",
     [](drivers::SerialSpec& t, const toml::node& node, KeyContext&) -> core::Status {
       auto v = ReadInteger(node, 1, UINT_MAX);
       if (!v) return v.error();
       if (!IsSupportedBaud(static_cast<unsigned>(*v))) {
         return Invalid(
             "expected a baud rate the serial port supports (9600, 19200, 38400, "
             "57600, 115200, 230400, ...), got " +
             std::to_string(*v));
       }
       t.baud = static_cast<unsigned>(*v);
       return core::Ok();
     },
     [](const drivers::SerialSpec& t, const Config&,
        const std::string&) -> std::optional<std::string> { return std::to_string(t.baud); }},
    Enum<drivers::SerialSpec>(
        "format", "json | kv | csv", kFormats, [](auto& t) -> auto& { return t.frame.format; }),
    List<drivers::SerialSpec>(
        "fields", "csv column names, in order", [](auto& t) -> auto& { return t.frame.fields; }),
    Text<drivers::SerialSpec>(
        "device", "device name for frames that carry none",
        [](auto& t) -> auto& { return t.frame.device; }, IsDeviceName,
        "1-64 characters of [A-Za-z0-9_.:-]"),
    Enum<drivers::SerialSpec>(
        "checksum", "none | nmea", kChecksums, [](auto& t) -> auto& { return t.frame.checksum; }),
    Bool<drivers::SerialSpec>(
        "ack", "write \"ACK <seq>\" back once a frame is durable",
        [](auto& t) -> auto& { return t.ack; }),
    Integer<drivers::SerialSpec>(
        "max_line", "longest accepted line in bytes",
        [](auto& t) -> auto& { return t.frame.max_line; }, 16, 1 << 20),
};

const std::vector<KeyRule<drivers::MqttSpec>> kMqttKeys = {
    Text<drivers::MqttSpec>(
        "name", "the input's name (required, unique)", [](auto& t) -> auto& { return t.name; },
        IsDeviceName, "1-64 characters of [A-Za-z0-9_.:-]"),
    Text<drivers::MqttSpec>(
        "url", "tcp://host:port or ssl://host:port", [](auto& t) -> auto& { return t.url; },
        IsMqttUrl, "a tcp:// or ssl:// URL"),
    Text<drivers::MqttSpec>(
        "client_id", "MQTT client id (default fieldsync-<gateway>)",
        [](auto& t) -> auto& { return t.client_id; }),
    {"topics", "array of strings", "topic templates; {device}/{metric} capture one level",
     [](drivers::MqttSpec& t, const toml::node& node, KeyContext&) -> core::Status {
       auto v = ReadStringList(node);
       if (!v) return v.error();
       for (const auto& topic : *v) {
         if (auto parsed = drivers::TopicTemplate::Parse(topic); !parsed) return parsed.error();
       }
       t.topics = std::move(*v);
       return core::Ok();
     },
     [](const drivers::MqttSpec& t, const Config&,
        const std::string&) -> std::optional<std::string> { return TomlStringList(t.topics); }},
    Enum<drivers::MqttSpec>(
        "format", "json | kv | csv", kFormats, [](auto& t) -> auto& { return t.frame.format; }),
    List<drivers::MqttSpec>(
        "fields", "csv column names, in order", [](auto& t) -> auto& { return t.frame.fields; }),
    Text<drivers::MqttSpec>(
        "device", "device name for messages that carry none",
        [](auto& t) -> auto& { return t.frame.device; }, IsDeviceName,
        "1-64 characters of [A-Za-z0-9_.:-]"),
    Integer<drivers::MqttSpec>(
        "qos", "subscription QoS", [](auto& t) -> auto& { return t.qos; }, 0, 2),
    Enum<drivers::MqttSpec>(
        "ack", "durable | received", kMqttAcks, [](auto& t) -> auto& { return t.ack; }),
    Text<drivers::MqttSpec>(
        "username", "broker user name", [](auto& t) -> auto& { return t.username; }),
    SecretFile<drivers::MqttSpec>(
        "password_file", "file holding the broker password",
        [](auto& t) -> auto& { return t.password; }, "password"),
    Text<drivers::MqttSpec>(
        "ca_file", "CA certificates for ssl://", [](auto& t) -> auto& { return t.ca_file; }),
    Text<drivers::MqttSpec>(
        "cert_file", "client certificate", [](auto& t) -> auto& { return t.cert_file; }),
    Text<drivers::MqttSpec>(
        "key_file", "client certificate's key", [](auto& t) -> auto& { return t.key_file; }),
};

const std::vector<KeyRule<drivers::HttpSpec>> kHttpKeys = {
    Text<drivers::HttpSpec>(
        "listen", "host:port to listen on; \"\" turns HTTP off",
        [](auto& t) -> auto& { return t.listen; }, IsListenAddress,
        "host:port with a port in 1..65535", Empty::kIsAValue),
    SecretFile<drivers::HttpSpec>(
        "api_key_file", "file holding the API key for POST endpoints",
        [](auto& t) -> auto& { return t.api_key; }, "api key"),
};

const std::vector<KeyRule<store::AggregateOptions>> kAggregateKeys = {
    Text<store::AggregateOptions>(
        "timezone", "IANA zone of daily buckets", [](auto& t) -> auto& { return t.timezone; },
        IsKnownTimeZone,
        "an IANA time zone name such as \"Europe/Berlin\" (see /usr/share/zoneinfo)"),
    Integer<store::AggregateOptions>(
        "late_window_s", "seconds behind a series' newest reading still aggregated",
        [](auto& t) -> auto& { return t.late_window_s; }, 0),
    Integer<store::AggregateOptions>(
        "hourly_retention_days", "days hourly buckets are kept locally",
        [](auto& t) -> auto& { return t.hourly_retention_days; }, 1),
    Integer<store::AggregateOptions>(
        "daily_retention_days", "days daily buckets are kept locally",
        [](auto& t) -> auto& { return t.daily_retention_days; }, 1),
    Text<store::AggregateOptions>(
        "profiles_query", "SQL returning condition profiles from the remote",
        [](auto& t) -> auto& { return t.profiles_query; }),
    Integer<store::AggregateOptions>(
        "profiles_refresh_s", "seconds between profile refreshes",
        [](auto& t) -> auto& { return t.profiles_refresh_s; }, 1),
};

const std::vector<KeyRule<MetricDraft>> kMetricKeys = {
    Enum<MetricDraft>(
        "kind", "gauge | counter", kKinds, [](auto& t) -> auto& { return t.spec.kind; }),
    Text<MetricDraft>(
        "unit", "unit shown with values", [](auto& t) -> auto& { return t.spec.unit; }),
    {"optimal", "[float, float]", "optimal range [lo, hi]",
     [](MetricDraft& t, const toml::node& node, KeyContext&) -> core::Status {
       auto v = ReadRange(node);
       if (!v) return v.error();
       t.optimal = *v;
       return core::Ok();
     },
     [](const MetricDraft& t, const Config&, const std::string&) -> std::optional<std::string> {
       if (!t.spec.profile) return std::nullopt;
       return TomlFloatPair(t.spec.profile->optimal_lo, t.spec.profile->optimal_hi);
     }},
    {"critical_margin", "float", "critical bounds as a fraction beyond optimal (default 0.20)",
     [](MetricDraft& t, const toml::node& node, KeyContext&) -> core::Status {
       auto v = ReadNumber(node);
       if (!v) return v.error();
       if (*v < 0) return Invalid("expected a number >= 0.0");
       t.critical_margin = *v;
       return core::Ok();
     },
     // Rendered as the critical bounds it resolved to.
     [](const MetricDraft&, const Config&, const std::string&) -> std::optional<std::string> {
       return std::nullopt;
     }},
    {"critical", "[float, float]", "critical bounds [clo, chi]",
     [](MetricDraft& t, const toml::node& node, KeyContext&) -> core::Status {
       auto v = ReadRange(node);
       if (!v) return v.error();
       t.critical = *v;
       return core::Ok();
     },
     [](const MetricDraft& t, const Config&, const std::string&) -> std::optional<std::string> {
       if (!t.spec.profile) return std::nullopt;
       return TomlFloatPair(t.spec.profile->critical_lo, t.spec.profile->critical_hi);
     }},
    Float<MetricDraft>(
        "scale", "value = raw * scale + offset", [](auto& t) -> auto& { return t.spec.scale; }),
    Float<MetricDraft>(
        "offset", "value = raw * scale + offset", [](auto& t) -> auto& { return t.spec.offset; }),
    Float<MetricDraft>(
        "jitter", "counters: a smaller drop is no reset",
        [](auto& t) -> auto& { return t.spec.jitter; }, 0.0),
};

const std::vector<KeyRule<ClockOptions>> kClockKeys = {
    Bool<ClockOptions>(
        "trust_unsynced", "trust the clock before it is synchronised (RTC)",
        [](auto& t) -> auto& { return t.trust_unsynced; }),
};

const std::vector<KeyRule<sync::SyncOptions>> kSyncKeys = {
    {"url", "string", "libpq URL or key=value string; \"\" = local only (secret)",
     [](sync::SyncOptions& t, const toml::node& node, KeyContext& context) -> core::Status {
       auto v = ReadString(node);
       if (!v) return v.error();
       t.url = *v;
       if (!v->empty()) context.config.secret_origins["sync.url"] = SecretOrigin{};
       return core::Ok();
     },
     [](const sync::SyncOptions& t, const Config& config,
        const std::string&) -> std::optional<std::string> {
       if (t.url.empty()) return "\"(unset)\"  # local only";
       std::string out = "\"(redacted)\"";
       auto origin = config.secret_origins.find("sync.url");
       if (origin != config.secret_origins.end() && !origin->second.env.empty()) {
         out += "  # from $" + origin->second.env;
       } else if (origin != config.secret_origins.end() && !origin->second.file.empty()) {
         out += "  # from url_file";
       }
       return out;
     }},
    {"url_file", "path", "file holding the libpq URL (secret)",
     SecretFile<sync::SyncOptions>(
         "url_file", "", [](auto& t) -> auto& { return t.url; }, "url")
         .set,
     [](const sync::SyncOptions&, const Config& config,
        const std::string&) -> std::optional<std::string> {
       auto origin = config.secret_origins.find("sync.url");
       return TomlString(origin != config.secret_origins.end() ? origin->second.file : "");
     }},
    Text<sync::SyncOptions>(
        "schema", "remote schema name", [](auto& t) -> auto& { return t.schema; }, IsSqlIdentifier,
        "an SQL identifier [A-Za-z_][A-Za-z0-9_]*"),
    Integer<sync::SyncOptions>(
        "batch_size", "readings per upload transaction",
        [](auto& t) -> auto& { return t.batch_size; }, 1, 1'000'000),
    Integer<sync::SyncOptions>(
        "interval_s", "seconds between sync cycles", [](auto& t) -> auto& { return t.interval_s; },
        1),
    Integer<sync::SyncOptions>(
        "max_backoff_s", "longest wait between retries",
        [](auto& t) -> auto& { return t.max_backoff_s; }, 1),
    Integer<sync::SyncOptions>(
        "op_timeout_s", "deadline of every remote operation",
        [](auto& t) -> auto& { return t.op_timeout_s; }, 1),
};

}  // namespace

bool IsSupportedBaud(unsigned baud) {
  return std::find(std::begin(kBaudRates), std::end(kBaudRates), baud) != std::end(kBaudRates);
}

std::span<const KeyRule<Config>> RootKeys() { return Span(kRootKeys); }
std::span<const KeyRule<LogOptions>> LogKeys() { return Span(kLogKeys); }
std::span<const KeyRule<store::StoreOptions>> StoreKeys() { return Span(kStoreKeys); }
std::span<const KeyRule<drivers::SerialSpec>> SerialKeys() { return Span(kSerialKeys); }
std::span<const KeyRule<drivers::MqttSpec>> MqttKeys() { return Span(kMqttKeys); }
std::span<const KeyRule<drivers::HttpSpec>> HttpKeys() { return Span(kHttpKeys); }
std::span<const KeyRule<store::AggregateOptions>> AggregateKeys() { return Span(kAggregateKeys); }
std::span<const KeyRule<MetricDraft>> MetricKeys() { return Span(kMetricKeys); }
std::span<const KeyRule<ClockOptions>> ClockKeys() { return Span(kClockKeys); }
std::span<const KeyRule<sync::SyncOptions>> SyncKeys() { return Span(kSyncKeys); }

}  // namespace fieldsync::agent
