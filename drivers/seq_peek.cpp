#include "drivers/seq_peek.hpp"

#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "drivers/frame_text.hpp"

namespace fieldsync::drivers {
namespace {

using nlohmann::json;

bool IsPairSeparator(char c) {
  return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsAssign(char c) { return c == '=' || c == ':'; }

std::string_view Trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Reads only what PeekJson needs while validating the whole text: no document is built, and
// nesting deeper than the frame parser allows stops the scan (no answer).
class SeqSax {
 public:
  bool null() { return Value(); }
  bool boolean(bool) { return Value(); }
  bool number_integer(json::number_integer_t) { return Value(); }
  bool number_unsigned(json::number_unsigned_t v) {
    if (at_seq_ && v <= std::numeric_limits<std::uint32_t>::max()) {
      seq_ = static_cast<std::uint32_t>(v);
    }
    return Value();
  }
  bool number_float(json::number_float_t, const json::string_t&) { return Value(); }
  bool string(json::string_t&) { return Value(); }
  bool binary(json::binary_t&) { return Value(); }
  bool start_object(std::size_t) { return Open(true); }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(false); }
  bool end_array() { return Close(); }
  bool key(json::string_t& k) {
    if (depth_ == 1 && k == "seq") {
      ++seq_keys_;
      at_seq_ = true;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

  std::optional<std::uint32_t> result() const {
    if (!top_is_object_ || seq_keys_ != 1) return std::nullopt;
    return seq_;
  }

 private:
  static constexpr int kMaxDepth = 64;
  bool Value() {
    at_seq_ = false;
    return true;
  }
  bool Open(bool object) {
    if (depth_ == 0) top_is_object_ = object;
    at_seq_ = false;  // `seq` holding an object or array is not a seq
    return ++depth_ <= kMaxDepth;
  }
  bool Close() {
    --depth_;
    return true;
  }
  int depth_ = 0;
  int seq_keys_ = 0;
  bool at_seq_ = false;
  bool top_is_object_ = false;
  std::optional<std::uint32_t> seq_;
};

std::optional<std::uint32_t> PeekJson(std::string_view text) {
  SeqSax sax;
  if (!json::sax_parse(text, &sax)) return std::nullopt;
  return sax.result();
}

// Same tokenisation as ParseKvFrame, without stopping at the first bad pair.
std::optional<std::uint32_t> PeekKv(std::string_view text) {
  std::optional<std::uint32_t> found;
  int seq_keys = 0;
  size_t pos = 0;
  const size_t n = text.size();
  while (true) {
    while (pos < n && IsPairSeparator(text[pos])) ++pos;
    if (pos == n) break;
    const size_t key_start = pos;
    while (pos < n && !IsPairSeparator(text[pos]) && !IsAssign(text[pos])) ++pos;
    std::string_view key = text.substr(key_start, pos - key_start);
    while (pos < n && IsSpace(text[pos])) ++pos;
    if (pos == n || !IsAssign(text[pos])) {
      if (key.empty()) ++pos;  // a stray '=' or ':' where a key should be
      continue;
    }
    ++pos;
    while (pos < n && IsSpace(text[pos])) ++pos;
    const size_t value_start = pos;
    while (pos < n && !IsPairSeparator(text[pos])) ++pos;
    if (key == "seq") {
      ++seq_keys;
      found = ParseSeqText(text.substr(value_start, pos - value_start));
    }
  }
  if (seq_keys != 1) return std::nullopt;
  return found;
}

std::optional<std::uint32_t> PeekCsv(std::string_view text,
                                     const std::vector<std::string>& fields) {
  size_t cells = 1;
  for (char c : text) cells += c == ',' ? 1 : 0;
  if (cells != fields.size()) return std::nullopt;
  size_t start = 0;
  for (const std::string& field : fields) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    if (field == "seq") return ParseSeqText(Trim(text.substr(start, comma - start)));
    start = comma + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::uint32_t> PeekSeq(const FrameSpec& spec, std::string_view text) {
  switch (spec.format) {
    case FrameFormat::kJson:
      return PeekJson(text);
    case FrameFormat::kKv:
      return PeekKv(text);
    case FrameFormat::kCsv:
      return PeekCsv(text, spec.fields);
  }
  return std::nullopt;
}

}  // namespace fieldsync::drivers
