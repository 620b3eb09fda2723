#include "drivers/frame_text.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace fieldsync::drivers {

std::optional<double> ParseNumberText(std::string_view text) {
  // from_chars takes no leading '+'; a firmware printing "+3.5" means 3.5.
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  double value = 0.0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::general);
  // Out of range (1e999) is reported as result_out_of_range: a number, but not a finite one.
  if (ec == std::errc::result_out_of_range && end == text.data() + text.size()) {
    bool negative = text.front() == '-';
    // Underflow (1e-999) is zero, not infinity.
    std::string_view digits = negative ? text.substr(1) : text;
    size_t e = digits.find_first_of("eE");
    bool tiny = e != std::string_view::npos && e + 1 < digits.size() && digits[e + 1] == '-';
    if (tiny) return negative ? -0.0 : 0.0;
    return negative ? -HUGE_VAL : HUGE_VAL;
  }
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint32_t> ParseSeqText(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<core::TimeUs> ParseTsText(std::string_view text) {
  if (auto number = ParseNumberText(text)) {
    auto us = core::EpochNumberToUs(*number);
    if (!us) return std::nullopt;
    return *us;
  }
  auto us = core::ParseRfc3339(text);
  if (!us) return std::nullopt;
  return *us;
}

bool IsReservedKey(std::string_view key) { return key == "device" || key == "ts" || key == "seq"; }

std::optional<FrameRejection> SetReservedFromText(std::string_view key, std::string_view text,
                                                  RawFrame& frame) {
  if (key == "device") {
    if (text.empty()) {
      return FrameRejection{core::RejectReason::kBadName, "device is empty", {}};
    }
    frame.device = std::string(text);
  } else if (key == "ts") {
    auto ts = ParseTsText(text);
    if (!ts) {
      return FrameRejection{
          core::RejectReason::kBadTs,
          CutForLog("ts is neither an epoch number nor RFC 3339: '" + std::string(text) + "'"),
          {}};
    }
    frame.ts = *ts;
  } else {
    auto seq = ParseSeqText(text);
    if (!seq) {
      return FrameRejection{
          core::RejectReason::kBadValue,
          CutForLog("seq is not an unsigned 32-bit integer: '" + std::string(text) + "'"),
          {}};
    }
    frame.seq = *seq;
  }
  return std::nullopt;
}

}  // namespace fieldsync::drivers
