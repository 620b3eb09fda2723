// Fuzz target: the configuration loader, ParseConfig(toml_text, origin).
//
// Input: TOML text. The environment is empty (no FIELDSYNC_PG_URL, no CREDENTIALS_DIRECTORY).
// Inputs whose `*_file` keys name a device, FIFO, /proc or /sys entry or a large file are skipped
// (/dev/stdin would block the run, /dev/zero never ends); other secret files are read as usual.
//
// Checked:
//  - an error is kInvalidArgument with a message "ORIGIN:LINE: ..." whose line is within the
//    text, or, for a required key that is absent (no line to point at), "ORIGIN: key '...'";
//  - a config has a valid gateway name, valid metric names, unique non-empty input names, serial
//    inputs with a port, MQTT inputs with topics that parse as templates, csv inputs with fields;
//  - what `config show` prints (RenderEffectiveConfig) loads again and prints the same (when no
//    secret is set; the "(unset)" placeholders of secrets are left out of the reload).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "agent/config.hpp"
#include "core/names.hpp"
#include "drivers/topic_template.hpp"
#include "fuzz_check.hpp"

namespace {

namespace agent = fieldsync::agent;
namespace core = fieldsync::core;
namespace drivers = fieldsync::drivers;
using fieldsync::fuzz::Printable;

const char kOrigin[] = "/nonexistent/fuzz/fieldsync.toml";

std::optional<std::string> NoEnvironment(const std::string&) { return std::nullopt; }

// Whether a `*_file` key names a file that is unsafe to read in a fuzzing loop: a device, a FIFO,
// /proc or /sys (which may block or never end), or a large file. Keys are read the way the loader
// reads them (toml++ resolves quoting and escapes), so no spelling gets past this.
bool UnsafePath(const std::string& text) {
  if (text.empty()) return false;
  std::filesystem::path path(text);
  if (path.is_relative()) path = std::filesystem::path(kOrigin).parent_path() / path;
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
  if (ec) return true;
  const std::string r = real.string();
  for (const char* dir : {"/dev", "/proc", "/sys", "/run"}) {
    if (r.rfind(dir, 0) == 0) return true;
  }
  if (!std::filesystem::exists(real, ec)) return false;  // the loader reports it missing
  return !std::filesystem::is_regular_file(real, ec) ||
         std::filesystem::file_size(real, ec) > 1024 * 1024 || ec;
}

bool NamesUnsafeFile(const toml::node& node) {
  if (const auto* table = node.as_table()) {
    for (auto&& [key, value] : *table) {
      std::string_view name = key.str();
      if (name.size() >= 5 && name.substr(name.size() - 5) == "_file" && value.is_string() &&
          UnsafePath(value.as_string()->get())) {
        return true;
      }
      if (NamesUnsafeFile(value)) return true;
    }
  } else if (const auto* array = node.as_array()) {
    for (const auto& item : *array) {
      if (NamesUnsafeFile(item)) return true;
    }
  }
  return false;
}

bool MayReadUnsafeFile(std::string_view text) {
  try {
    toml::table root = toml::parse(text);
    return NamesUnsafeFile(root);
  } catch (const toml::parse_error&) {
    return false;  // ParseConfig fails the same way before reading anything
  }
}

size_t LineCount(std::string_view text) {
  size_t lines = 1;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

void CheckError(const core::Error& error, std::string_view text) {
  const std::string& m = error.message;
  FUZZ_CHECK(error.code == core::Errc::kInvalidArgument, m);
  const std::string prefix = std::string(kOrigin) + ":";
  FUZZ_CHECK(m.compare(0, prefix.size(), prefix) == 0, "message without origin: " + m);
  size_t pos = prefix.size();
  size_t digits = 0;
  unsigned long line = 0;
  while (pos < m.size() && m[pos] >= '0' && m[pos] <= '9' && digits < 12) {
    line = line * 10 + static_cast<unsigned long>(m[pos] - '0');
    ++pos;
    ++digits;
  }
  if (digits == 0) {
    // Only an absent required key has no line to point at.
    FUZZ_CHECK(
        m.compare(prefix.size(), 6, " key '") == 0 && m.find("required") != std::string::npos,
        "message without a line number: " + m);
    return;
  }
  FUZZ_CHECK(pos < m.size() && m[pos] == ':', "no ':' after the line number: " + m);
  FUZZ_CHECK(line >= 1 && line <= LineCount(text),
             "line " + std::to_string(line) + " of " + std::to_string(LineCount(text)) + ": " + m);
  FUZZ_CHECK(m.size() > pos + 2, "empty message after the line number: " + m);
}

void CheckConfig(const agent::Config& c) {
  FUZZ_CHECK(!c.gateway.empty() && core::IsValidDevice(c.gateway), Printable(c.gateway));
  FUZZ_CHECK(c.source_path == kOrigin, c.source_path);
  for (const auto& [name, spec] : c.metrics) {
    FUZZ_CHECK(core::IsValidMetric(name), "metric " + Printable(name));
  }
  std::set<std::string> names;
  for (const auto& s : c.serial) {
    FUZZ_CHECK(!s.name.empty() && names.insert(s.name).second, "serial name " + Printable(s.name));
    FUZZ_CHECK(!s.port.empty(), "serial " + s.name + " without port");
    FUZZ_CHECK(s.frame.format != drivers::FrameFormat::kCsv || !s.frame.fields.empty(), s.name);
  }
  for (const auto& m : c.mqtt) {
    FUZZ_CHECK(!m.name.empty() && names.insert(m.name).second, "mqtt name " + Printable(m.name));
    FUZZ_CHECK(!m.topics.empty(), "mqtt " + m.name + " without topics");
    for (const auto& t : m.topics) {
      FUZZ_CHECK(drivers::TopicTemplate::Parse(t).has_value(), "topic " + Printable(t));
    }
    FUZZ_CHECK(m.frame.format != drivers::FrameFormat::kCsv || !m.frame.fields.empty(), m.name);
    FUZZ_CHECK(!m.client_id.empty(), m.name);
  }
  FUZZ_CHECK(names.count("http") == 0 && names.count("ingest") == 0, "reserved input name");
}

bool HasSecret(const agent::Config& c) {
  if (!c.sync.url.empty() || !c.http.api_key.empty()) return true;
  for (const auto& m : c.mqtt) {
    if (!m.password.empty()) return true;
  }
  return false;
}

// `config show` prints secrets as "(unset)" or "(redacted)" by contract; those lines are not
// settings to load back.
std::string WithoutSecretPlaceholders(const std::string& shown) {
  std::string out;
  size_t start = 0;
  while (start < shown.size()) {
    size_t end = shown.find('\n', start);
    end = end == std::string::npos ? shown.size() : end + 1;
    std::string_view line(shown.data() + start, end - start);
    bool placeholder = line.find(" = \"(unset)\"") != std::string_view::npos ||
                       line.find(" = \"(redacted)\"") != std::string_view::npos;
    if (!placeholder) out.append(line);
    start = end;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (MayReadUnsafeFile(text)) return -1;

  core::Expected<agent::Config> config = agent::ParseConfig(text, kOrigin, NoEnvironment);
  if (!config) {
    CheckError(config.error(), text);
    return 0;
  }
  CheckConfig(*config);
  if (HasSecret(*config)) return 0;

  const std::string shown = agent::RenderEffectiveConfig(*config);
  core::Expected<agent::Config> reloaded =
      agent::ParseConfig(WithoutSecretPlaceholders(shown), kOrigin, NoEnvironment);
  FUZZ_CHECK(reloaded.has_value(), "config show output does not load: " +
                                       (reloaded ? "" : reloaded.error().message) + "\n" + shown);
  const std::string shown_again = agent::RenderEffectiveConfig(*reloaded);
  FUZZ_CHECK(shown_again == shown,
             "config show changes on reload:\n" + shown + "\n---\n" + shown_again);
  return 0;
}
