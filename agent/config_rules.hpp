#pragma once
// Factories for the rows of the configuration key table (config_keys.cpp): one per value kind
// (text, integer, float, boolean, choice, list, secret file). Each row reads a TOML value into a
// field and renders it back; `field` is a generic accessor `[](auto& t) -> auto& { return t.x; }`
// so that one lambda serves both the setter (T&) and the renderer (const T&).

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "agent/config_keys.hpp"
#include "agent/config_values.hpp"

namespace fieldsync::agent::rules {

inline constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();

inline core::Error Invalid(std::string message) {
  return core::MakeError(core::Errc::kInvalidArgument, std::move(message));
}

enum class Empty { kKeepsDefault, kIsAValue };

using NameCheck = bool (*)(std::string_view);

template <class T, class F>
KeyRule<T> Text(std::string_view name, std::string_view description, F field,
                NameCheck check = nullptr, std::string_view rule = {},
                Empty empty = Empty::kKeepsDefault) {
  return {name, "string", description,
          [=](T& t, const toml::node& node, KeyContext&) -> core::Status {
            auto text = ReadString(node);
            if (!text) return text.error();
            if (text->empty() && empty == Empty::kKeepsDefault) return core::Ok();
            if (!text->empty() && check != nullptr && !check(*text)) {
              return Invalid("expected " + std::string(rule) + ", got " + TomlString(*text));
            }
            field(t) = *text;
            return core::Ok();
          },
          [=](const T& t, const Config&, const std::string&) -> std::optional<std::string> {
            return TomlString(field(t));
          }};
}

template <class T, class F>
KeyRule<T> Integer(std::string_view name, std::string_view description, F field, std::int64_t min,
                   std::int64_t max = kNoMax) {
  return {name, "integer", description,
          [=](T& t, const toml::node& node, KeyContext&) -> core::Status {
            auto v = ReadInteger(node, min, max);
            if (!v) return v.error();
            using Field = std::remove_reference_t<decltype(field(t))>;
            field(t) = static_cast<Field>(*v);
            return core::Ok();
          },
          [=](const T& t, const Config&, const std::string&) -> std::optional<std::string> {
            return std::to_string(field(t));
          }};
}

template <class T, class F>
KeyRule<T> Float(std::string_view name, std::string_view description, F field,
                 double min = -std::numeric_limits<double>::infinity()) {
  return {name, "float", description,
          [=](T& t, const toml::node& node, KeyContext&) -> core::Status {
            auto v = ReadNumber(node);
            if (!v) return v.error();
            if (*v < min) return Invalid("expected a number >= " + TomlFloat(min));
            field(t) = *v;
            return core::Ok();
          },
          [=](const T& t, const Config&, const std::string&) -> std::optional<std::string> {
            return TomlFloat(field(t));
          }};
}

template <class T, class F>
KeyRule<T> Bool(std::string_view name, std::string_view description, F field) {
  return {name, "boolean", description,
          [=](T& t, const toml::node& node, KeyContext&) -> core::Status {
            auto v = ReadBool(node);
            if (!v) return v.error();
            field(t) = *v;
            return core::Ok();
          },
          [=](const T& t, const Config&, const std::string&) -> std::optional<std::string> {
            return field(t) ? "true" : "false";
          }};
}

template <class T, class E, std::size_t N, class F>
KeyRule<T> Enum(std::string_view name, std::string_view description, const EnumName<E> (&names)[N],
                F field) {
  std::span<const EnumName<E>> choices(names);
  return {name, "enum", description,
          [=](T& t, const toml::node& node, KeyContext&) -> core::Status {
            auto v = ReadEnum(node, choices);
            if (!v) return v.error();
            field(t) = *v;
            return core::Ok();
          },
          [=](const T& t, const Config&, const std::string&) -> std::optional<std::string> {
            return TomlString(EnumToName<E>(field(t), choices));
          }};
}

template <class T, class F>
KeyRule<T> List(std::string_view name, std::string_view description, F field) {
  return {name, "array of strings", description,
          [=](T& t, const toml::node& node, KeyContext&) -> core::Status {
            auto v = ReadStringList(node);
            if (!v) return v.error();
            field(t) = std::move(*v);
            return core::Ok();
          },
          [=](const T& t, const Config&, const std::string&) -> std::optional<std::string> {
            return TomlStringList(field(t));
          }};
}

// "mqtt[0].password_file" -> "mqtt[0].password": where the secret's origin is recorded.
std::string SecretKeyOf(const std::string& file_key);

// The largest secret file accepted: far above any URL, password or key.
inline constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

// Reads the secret a *_file key names: relative paths start at $CREDENTIALS_DIRECTORY when set,
// else at the config file's directory; trailing newlines are dropped; missing, empty or larger
// than kMaxSecretFileBytes is an error naming the resolved path (reading stops at the cap, so a
// device such as /dev/zero is refused rather than read forever). Records the origin in
// context.config.secret_origins.
core::Expected<std::string> ReadSecretFile(const std::string& path_text, KeyContext& context);

// A *_file key: the value is a path; the file's content becomes the secret `field`.
template <class T, class F>
KeyRule<T> SecretFile(std::string_view name, std::string_view description, F field,
                      std::string_view secret_label) {
  return {
      name, "path", description,
      [=](T& t, const toml::node& node, KeyContext& context) -> core::Status {
        auto path = ReadString(node);
        if (!path) return path.error();
        if (path->empty()) return core::Ok();
        auto secret = ReadSecretFile(*path, context);
        if (!secret) return secret.error();
        field(t) = std::move(*secret);
        return core::Ok();
      },
      [=](const T& t, const Config& config, const std::string& key) -> std::optional<std::string> {
        auto origin = config.secret_origins.find(SecretKeyOf(key));
        std::string file = origin != config.secret_origins.end() ? origin->second.file : "";
        std::string out = TomlString(file) + "  # " + std::string(secret_label);
        if (field(t).empty()) return out + " (unset)";
        out += " (redacted)";
        if (origin != config.secret_origins.end() && !origin->second.env.empty()) {
          out += ", from $" + origin->second.env;
        }
        return out;
      }};
}

}  // namespace fieldsync::agent::rules
