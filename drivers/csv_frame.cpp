#include "drivers/csv_frame.hpp"

#include "drivers/frame_text.hpp"

namespace fieldsync::drivers {
namespace {

using core::RejectReason;

std::string_view Trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

ParseResult ParseCsvFrame(std::string_view text, const std::vector<std::string>& fields) {
  // Count first so that a wrong row is refused before any work, whatever its length.
  size_t cells = 1;
  for (char c : text) cells += c == ',' ? 1 : 0;
  if (cells != fields.size()) {
    return ParseResult::Reject(
        RejectReason::kParse,
        "row has " + std::to_string(cells) + " cells, expected " + std::to_string(fields.size()));
  }
  RawFrame frame;
  size_t start = 0;
  for (const std::string& field : fields) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view cell = Trim(text.substr(start, comma - start));
    start = comma + 1;
    if (cell.empty()) continue;  // a missing value
    if (IsReservedKey(field)) {
      if (auto rejection = SetReservedFromText(field, cell, frame)) {
        return ParseResult{std::nullopt, std::move(rejection)};
      }
      continue;
    }
    auto number = ParseNumberText(cell);
    if (!number) {
      return ParseResult::Reject(
          RejectReason::kBadValue,
          "value of '" + field + "' is not a number: '" + std::string(cell) + "'");
    }
    frame.readings.push_back(RawReading{field, *number});
  }
  return ParseResult::Accept(std::move(frame));
}

}  // namespace fieldsync::drivers
