#include "agent/api_key.hpp"

#include <cstddef>

namespace fieldsync::agent {

bool ConstantTimeEquals(std::string_view configured, std::string_view presented) {
  // Why: an early exit at the first differing byte would let a caller find the key byte by byte
  // from response times. Every byte of `presented` is visited, and the length difference is
  // folded into the same accumulator instead of returning early.
  std::size_t diff = configured.size() ^ presented.size();
  const std::size_t n = configured.size();
  for (std::size_t i = 0; i < presented.size(); ++i) {
    const unsigned char expected = n == 0 ? 0 : static_cast<unsigned char>(configured[i % n]);
    diff |= static_cast<std::size_t>(expected ^ static_cast<unsigned char>(presented[i]));
  }
  // An empty presented key must never equal a non-empty configured one: covered by the length.
  return diff == 0;
}

KeyCheck CheckApiKey(std::string_view configured, std::optional<std::string_view> presented) {
  if (configured.empty()) return KeyCheck::kNotConfigured;
  if (!presented.has_value() || presented->empty()) return KeyCheck::kMissing;
  return ConstantTimeEquals(configured, *presented) ? KeyCheck::kOk : KeyCheck::kWrong;
}

}  // namespace fieldsync::agent
