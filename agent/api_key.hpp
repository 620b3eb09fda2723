#pragma once
// API key checks for the HTTP write endpoints (§8). The comparison takes the same time whatever
// prefix of the key a caller guessed right, so response timing does not reveal the key.
// Plain functions over values; thread-safe.

#include <optional>
#include <string_view>

namespace fieldsync::agent {

// True when the two keys are byte-for-byte equal. Visits every byte of `presented` whatever its
// content and never returns early, so the time taken does not depend on where they differ.
bool ConstantTimeEquals(std::string_view configured, std::string_view presented);

enum class KeyCheck : unsigned char {
  kOk,
  kNotConfigured,  // no key is set: write endpoints are closed (403)
  kMissing,        // no X-API-Key header (401)
  kWrong,          // a key that does not match (401)
};

// `configured` empty means no key is set; `presented` is the X-API-Key header, if any.
KeyCheck CheckApiKey(std::string_view configured, std::optional<std::string_view> presented);

}  // namespace fieldsync::agent
