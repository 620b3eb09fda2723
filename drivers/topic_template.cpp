#include "drivers/topic_template.hpp"

#include <algorithm>

namespace fieldsync::drivers {
namespace {

std::vector<std::string_view> SplitLevels(std::string_view s) {
  std::vector<std::string_view> levels;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      levels.push_back(s.substr(start));
      return levels;
    }
    levels.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

core::Expected<TopicTemplate> TopicTemplate::Parse(std::string_view text) {
  auto fail = [text](const std::string& why) {
    return core::MakeError(core::Errc::kInvalidArgument,
                           "topic template '" + std::string(text) + "': " + why);
  };
  if (text.empty()) return fail("is empty");
  if (text.size() > 65535) return fail("is longer than an MQTT topic may be");

  TopicTemplate t;
  t.text_ = std::string(text);
  std::vector<std::string_view> parts = SplitLevels(text);
  bool has_device = false;
  bool has_metric = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view level = parts[i];
    Level parsed{LevelKind::kLiteral, std::string(level)};
    if (level == "{device}" || level == "{metric}") {
      bool& seen = level == "{device}" ? has_device : has_metric;
      if (seen) return fail(std::string(level) + " appears twice");
      seen = true;
      parsed = Level{level == "{device}" ? LevelKind::kDevice : LevelKind::kMetric, {}};
    } else if (level == "+") {
      parsed = Level{LevelKind::kAnyOne, {}};
    } else if (level == "#") {
      if (i + 1 != parts.size()) return fail("'#' must be the last level");
      parsed = Level{LevelKind::kAnyRest, {}};
    } else if (level.find_first_of("{}+#") != std::string_view::npos) {
      if (level.find('{') != std::string_view::npos && level.find('}') != std::string_view::npos) {
        return fail("level '" + std::string(level) +
                    "': a placeholder must be a whole level, {device} or {metric}");
      }
      return fail("level '" + std::string(level) + "' contains '{', '}', '+' or '#'");
    }
    if (i > 0) t.filter_ += '/';
    switch (parsed.kind) {
      case LevelKind::kLiteral:
        t.filter_ += parsed.literal;
        break;
      case LevelKind::kDevice:
      case LevelKind::kMetric:
      case LevelKind::kAnyOne:
        t.filter_ += '+';
        break;
      case LevelKind::kAnyRest:
        t.filter_ += '#';
        break;
    }
    t.levels_.push_back(std::move(parsed));
  }
  return t;
}

bool TopicTemplate::captures_metric() const {
  return std::any_of(levels_.begin(), levels_.end(),
                     [](const Level& l) { return l.kind == LevelKind::kMetric; });
}

std::optional<TopicCapture> TopicTemplate::Match(std::string_view topic) const {
  if (topic.empty()) return std::nullopt;
  std::vector<std::string_view> parts = SplitLevels(topic);
  if (topic.front() == '$' && levels_.front().kind != LevelKind::kLiteral) return std::nullopt;

  TopicCapture capture;
  for (size_t i = 0; i < levels_.size(); ++i) {
    const Level& level = levels_[i];
    if (level.kind == LevelKind::kAnyRest) return capture;  // '#' also matches the parent level
    if (i >= parts.size()) return std::nullopt;
    switch (level.kind) {
      case LevelKind::kLiteral:
        if (parts[i] != level.literal) return std::nullopt;
        break;
      case LevelKind::kDevice:
        capture.device = std::string(parts[i]);
        break;
      case LevelKind::kMetric:
        capture.metric = std::string(parts[i]);
        break;
      case LevelKind::kAnyOne:
      case LevelKind::kAnyRest:
        break;
    }
  }
  if (parts.size() != levels_.size()) return std::nullopt;
  return capture;
}

}  // namespace fieldsync::drivers
