#include "drivers/kv_frame.hpp"

#include <string>
#include <unordered_set>

#include "drivers/frame_text.hpp"

namespace fieldsync::drivers {
namespace {

using core::RejectReason;

// '\r' and '\n' separate too, so an MQTT or HTTP payload with a final newline still parses.
bool IsPairSeparator(char c) {
  return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsAssign(char c) { return c == '=' || c == ':'; }

}  // namespace

ParseResult ParseKvFrame(std::string_view text) {
  RawFrame frame;
  std::unordered_set<std::string_view> keys;
  size_t pos = 0;
  const size_t n = text.size();
  while (true) {
    while (pos < n && IsPairSeparator(text[pos])) ++pos;
    if (pos == n) break;

    size_t key_start = pos;
    while (pos < n && !IsPairSeparator(text[pos]) && !IsAssign(text[pos])) ++pos;
    std::string_view key = text.substr(key_start, pos - key_start);
    if (key.empty()) {
      return ParseResult::Reject(RejectReason::kParse,
                                 "expected a key at byte " + std::to_string(pos));
    }
    while (pos < n && IsSpace(text[pos])) ++pos;
    if (pos == n || !IsAssign(text[pos])) {
      // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict on "'" + std::string(...).
      std::string message(1, '\'');
      message.append(key).append("' is not followed by '=' or ':'");
      return ParseResult::Reject(RejectReason::kParse, message);
    }
    ++pos;
    while (pos < n && IsSpace(text[pos])) ++pos;
    size_t value_start = pos;
    while (pos < n && !IsPairSeparator(text[pos])) ++pos;
    std::string_view value = text.substr(value_start, pos - value_start);

    if (!keys.insert(key).second) {
      return ParseResult::Reject(RejectReason::kParse,
                                 "key '" + std::string(key) + "' appears twice");
    }
    if (IsReservedKey(key)) {
      if (auto rejection = SetReservedFromText(key, value, frame)) {
        return ParseResult{std::nullopt, std::move(rejection)};
      }
      continue;
    }
    auto number = ParseNumberText(value);
    if (!number) {
      return ParseResult::Reject(
          RejectReason::kBadValue,
          "value of '" + std::string(key) + "' is not a number: '" + std::string(value) + "'");
    }
    frame.readings.push_back(RawReading{std::string(key), *number});
  }
  return ParseResult::Accept(std::move(frame));
}

}  // namespace fieldsync::drivers
