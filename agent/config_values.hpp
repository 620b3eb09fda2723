#pragma once
// Typed reading of TOML values for the configuration key table, and the reverse: rendering a
// value as TOML text. Each Read* returns the value or an Error whose message says what was
// expected ("expected an integer in 1..65535, got 0"); the loader adds the key and line.

#include <toml++/toml.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace fieldsync::agent {

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

core::Expected<std::string> ReadString(const toml::node& node);
core::Expected<std::int64_t> ReadInteger(const toml::node& node, std::int64_t min,
                                         std::int64_t max);
// A finite number; an integer is accepted where a float is expected.
core::Expected<double> ReadNumber(const toml::node& node);
core::Expected<bool> ReadBool(const toml::node& node);
core::Expected<std::vector<std::string>> ReadStringList(const toml::node& node);
// [lo, hi] with lo <= hi.
core::Expected<std::array<double, 2>> ReadRange(const toml::node& node);

// "a | b | c", for messages and docs.
template <class E>
std::string EnumChoices(std::span<const EnumName<E>> names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " | ") + std::string(n.name);
  return out;
}

template <class E>
core::Expected<E> ReadEnum(const toml::node& node, std::span<const EnumName<E>> names) {
  auto text = ReadString(node);
  if (!text) return text.error();
  for (const auto& n : names) {
    if (n.name == *text) return n.value;
  }
  return core::MakeError(core::Errc::kInvalidArgument,
                         "expected one of " + EnumChoices(names) + ", got \"" + *text + "\"");
}

template <class E>
std::string_view EnumToName(E value, std::span<const EnumName<E>> names) {
  for (const auto& n : names) {
    if (n.value == value) return n.name;
  }
  return "?";
}

// TOML text of a value: a quoted, escaped string; the shortest float that reads back equal
// (always with a '.' or exponent, so it stays a float); a list of strings.
std::string TomlString(std::string_view text);
std::string TomlFloat(double value);
std::string TomlStringList(const std::vector<std::string>& items);
std::string TomlFloatPair(double a, double b);

}  // namespace fieldsync::agent
