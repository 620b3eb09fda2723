// Fuzz target: MQTT topic templates (TopicTemplate::Parse and Match).
//
// Input layout (see docs/fuzzing.md): the template up to the first '\n', then topics, one per
// line. Besides the topics as written, each line also fills the template's placeholders and '+'
// levels (split at ','), so that matching topics are reached, not only refused ones.
//
// Checked:
//  - Parse either fails with a message naming the template, or gives a template whose filter has
//    the same number of levels, placeholders turned to '+', and which parses again to the same;
//  - Match agrees with MQTT subscription matching of filter() (reference matcher below, with the
//    '$' rule): the template matches exactly the topics the broker delivers for its subscription;
//  - a match captures single levels only (no '/'), taken from the right level, and captures
//    {device} / {metric} exactly when the template has them;
//  - a topic built from the template with single-level values matches and captures those values.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/topic_template.hpp"
#include "fuzz_check.hpp"

namespace {

namespace drivers = fieldsync::drivers;
using fieldsync::fuzz::Printable;

constexpr size_t kMaxTopicsPerInput = 32;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// MQTT 3.1.1 §4.7: '+' one level, '#' the rest including the parent level; topics starting with
// '$' are not matched by a filter whose first level is a wildcard.
bool FilterMatches(std::string_view filter, std::string_view topic) {
  if (topic.empty()) return false;
  std::vector<std::string_view> f = Split(filter, '/');
  std::vector<std::string_view> t = Split(topic, '/');
  if (topic.front() == '$' && (f.front() == "+" || f.front() == "#")) return false;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

void CheckMatch(const drivers::TopicTemplate& tmpl, const std::vector<std::string_view>& levels,
                std::string_view topic) {
  std::optional<drivers::TopicCapture> capture = tmpl.Match(topic);
  const bool expected = FilterMatches(tmpl.filter(), topic);
  FUZZ_CHECK(capture.has_value() == expected,
             "template " + Printable(tmpl.text()) + " topic " + Printable(topic) +
                 (expected ? ": the subscription delivers it but Match refuses it"
                           : ": Match accepts what the subscription does not deliver"));
  if (!capture) return;
  std::vector<std::string_view> parts = Split(topic, '/');
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i] != "{device}" && levels[i] != "{metric}") continue;
    const std::optional<std::string>& got =
        levels[i] == "{device}" ? capture->device : capture->metric;
    FUZZ_CHECK(got.has_value() && i < parts.size() && *got == parts[i],
               "capture of " + std::string(levels[i]) + " from " + Printable(topic));
    FUZZ_CHECK(got->find('/') == std::string::npos, "multi-level capture " + Printable(*got));
  }
  bool has_device = false;
  bool has_metric = false;
  for (auto level : levels) {
    has_device = has_device || level == "{device}";
    has_metric = has_metric || level == "{metric}";
  }
  FUZZ_CHECK(capture->device.has_value() == has_device, Printable(tmpl.text()));
  FUZZ_CHECK(capture->metric.has_value() == has_metric, Printable(tmpl.text()));
  FUZZ_CHECK(tmpl.captures_metric() == has_metric, Printable(tmpl.text()));
}

// The template with each '{device}', '{metric}' and '+' level replaced by the next of `values`
// (empty when they run out) and '#' by `values`' remainder joined with '/'.
std::string Fill(const std::vector<std::string_view>& levels,
                 const std::vector<std::string_view>& values) {
  std::string topic;
  size_t next = 0;
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) topic += '/';
    std::string_view level = levels[i];
    if (level == "{device}" || level == "{metric}" || level == "+") {
      if (next < values.size()) topic += values[next++];
    } else if (level == "#") {
      for (size_t k = next; k < values.size(); ++k) {
        if (k > next) topic += '/';
        topic += values[k];
      }
      if (next >= values.size() && topic.back() == '/') topic.pop_back();  // "a/#" matches "a"
    } else {
      topic += level;
    }
  }
  return topic;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view text = input.substr(0, nl);
  std::string_view topics = nl == std::string_view::npos ? "" : input.substr(nl + 1);

  auto parsed = drivers::TopicTemplate::Parse(text);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty(), Printable(text));
    FUZZ_CHECK(parsed.error().message.find("topic template '") == 0, parsed.error().message);
    return 0;
  }
  const drivers::TopicTemplate& tmpl = *parsed;
  FUZZ_CHECK(tmpl.text() == text, Printable(text));
  const std::vector<std::string_view> levels = Split(text, '/');
  const std::vector<std::string_view> filter_levels = Split(tmpl.filter(), '/');
  FUZZ_CHECK(levels.size() == filter_levels.size(), tmpl.filter());
  for (size_t i = 0; i < levels.size(); ++i) {
    bool placeholder = levels[i] == "{device}" || levels[i] == "{metric}";
    FUZZ_CHECK(filter_levels[i] == (placeholder ? std::string_view("+") : levels[i]),
               "filter " + Printable(tmpl.filter()) + " of " + Printable(text));
    FUZZ_CHECK(levels[i] != "#" || i + 1 == levels.size(), Printable(text));
  }
  auto again = drivers::TopicTemplate::Parse(tmpl.text());
  FUZZ_CHECK(again && again->filter() == tmpl.filter(), Printable(text));

  size_t count = 0;
  for (std::string_view line : Split(topics, '\n')) {
    if (++count > kMaxTopicsPerInput) break;
    CheckMatch(tmpl, levels, line);

    std::vector<std::string_view> values = Split(line, ',');
    std::string filled = Fill(levels, values);
    CheckMatch(tmpl, levels, filled);
    bool single_levels = true;
    for (auto v : values) single_levels = single_levels && v.find('/') == std::string_view::npos;
    bool dollar = !filled.empty() && filled.front() == '$';
    if (single_levels && !dollar && !filled.empty()) {
      FUZZ_CHECK(tmpl.Match(filled).has_value(),
                 "filled topic " + Printable(filled) + " refused by " + Printable(text));
    }
  }
  return 0;
}
