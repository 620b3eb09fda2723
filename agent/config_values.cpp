#include "agent/config_values.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace fieldsync::agent {
namespace {

using core::Errc;
using core::MakeError;

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

core::Error Expected(const std::string& what, const toml::node& node) {
  return MakeError(Errc::kInvalidArgument, "expected " + what + ", got " + TypeName(node));
}

}  // namespace

core::Expected<std::string> ReadString(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  return Expected("a string", node);
}

core::Expected<std::int64_t> ReadInteger(const toml::node& node, std::int64_t min,
                                         std::int64_t max) {
  const auto* i = node.as_integer();
  if (i == nullptr) return Expected("an integer", node);
  std::int64_t v = i->get();
  if (v < min || v > max) {
    std::string range = std::to_string(min) + "..";
    if (max != INT64_MAX) range += std::to_string(max);
    return MakeError(Errc::kInvalidArgument,
                     "expected an integer in " + range + ", got " + std::to_string(v));
  }
  return v;
}

core::Expected<double> ReadNumber(const toml::node& node) {
  double v = 0.0;
  if (const auto* f = node.as_floating_point()) {
    v = f->get();
  } else if (const auto* i = node.as_integer()) {
    v = static_cast<double>(i->get());
  } else {
    return Expected("a number", node);
  }
  if (!std::isfinite(v)) return MakeError(Errc::kInvalidArgument, "expected a finite number");
  return v;
}

core::Expected<bool> ReadBool(const toml::node& node) {
  if (const auto* b = node.as_boolean()) return b->get();
  return Expected("true or false", node);
}

core::Expected<std::vector<std::string>> ReadStringList(const toml::node& node) {
  const auto* array = node.as_array();
  if (array == nullptr) return Expected("an array of strings", node);
  std::vector<std::string> out;
  for (const auto& item : *array) {
    const auto* s = item.as_string();
    if (s == nullptr) return Expected("an array of strings, one item", item);
    out.push_back(s->get());
  }
  return out;
}

core::Expected<std::array<double, 2>> ReadRange(const toml::node& node) {
  const auto* array = node.as_array();
  if (array == nullptr || array->size() != 2) {
    return MakeError(Errc::kInvalidArgument, "expected [low, high] (two numbers)");
  }
  std::array<double, 2> out{};
  for (std::size_t i = 0; i < 2; ++i) {
    auto v = ReadNumber(*array->get(i));
    if (!v) return MakeError(Errc::kInvalidArgument, "expected [low, high] (two numbers)");
    out[i] = *v;
  }
  if (out[0] > out[1]) {
    return MakeError(Errc::kInvalidArgument, "expected [low, high] with low <= high, got [" +
                                                 TomlFloat(out[0]) + ", " + TomlFloat(out[1]) +
                                                 "]");
  }
  return out;
}

std::string TomlString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string TomlFloat(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string out(buf, ec == std::errc() ? end : buf);
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string TomlStringList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + TomlString(items[i]);
  return out + "]";
}

std::string TomlFloatPair(double a, double b) {
  return "[" + TomlFloat(a) + ", " + TomlFloat(b) + "]";
}

}  // namespace fieldsync::agent
