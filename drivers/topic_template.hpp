#pragma once
// TopicTemplate: an MQTT topic pattern from the input's `topics` (§2), e.g.
// "sensors/{device}/{metric}" or "frames/{device}".
//
// Levels are separated by '/'. A level is one of: literal text; "{device}" or "{metric}" (each at
// most once, the whole level: "x{device}" is refused); "+" (any one level, captured nowhere);
// "#" (any remaining levels, last level only). Literal levels may not contain '{', '}', '+', '#'.
// As in MQTT, a topic starting with '$' does not match a first level that is a placeholder or
// a wildcard. Immutable after Parse; safe to share between threads.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "drivers/topic_capture.hpp"

namespace fieldsync::drivers {

class TopicTemplate {
 public:
  // Errc::kInvalidArgument with a message naming the template and the bad level.
  static core::Expected<TopicTemplate> Parse(std::string_view text);

  // The subscription filter: placeholders become '+' ("sensors/+/+").
  const std::string& filter() const { return filter_; }
  const std::string& text() const { return text_; }
  bool captures_metric() const;

  // What `topic` captures, or nullopt when it does not match the template.
  std::optional<TopicCapture> Match(std::string_view topic) const;

 private:
  enum class LevelKind : unsigned char { kLiteral, kDevice, kMetric, kAnyOne, kAnyRest };
  struct Level {
    LevelKind kind;
    std::string literal;
  };

  TopicTemplate() = default;

  std::string text_;
  std::string filter_;
  std::vector<Level> levels_;
};

}  // namespace fieldsync::drivers
