#include "drivers/metric_payload.hpp"

#include <string>

#include "drivers/frame_text.hpp"
#include "drivers/json_frame.hpp"

namespace fieldsync::drivers {

ParseResult ParseMetricPayload(std::string_view payload, std::string_view metric) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!payload.empty() && is_space(payload.front())) payload.remove_prefix(1);
  while (!payload.empty() && is_space(payload.back())) payload.remove_suffix(1);

  if (!payload.empty() && payload.front() == '{') {
    ParseResult parsed = ParseJsonFrame(payload);
    if (!parsed.frame) return parsed;
    RawFrame& frame = *parsed.frame;
    RawFrame out;
    out.device = std::move(frame.device);
    out.ts = frame.ts;
    out.seq = frame.seq;
    out.fields_ignored = frame.fields_ignored;
    for (RawReading& r : frame.readings) {
      if (r.metric == "value") {
        out.readings.push_back(RawReading{std::string(metric), r.value});
      } else {
        ++out.fields_ignored;
      }
    }
    return ParseResult::Accept(std::move(out));
  }
  auto number = ParseNumberText(payload);
  if (!number) {
    return ParseResult::Reject(core::RejectReason::kParse,
                               "payload is neither a number nor a JSON object");
  }
  RawFrame out;
  out.readings.push_back(RawReading{std::string(metric), *number});
  return ParseResult::Accept(std::move(out));
}

}  // namespace fieldsync::drivers
