#include "drivers/frame_decoder.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/names.hpp"
#include "drivers/csv_frame.hpp"
#include "drivers/json_frame.hpp"
#include "drivers/kv_frame.hpp"
#include "drivers/metric_payload.hpp"
#include "drivers/nmea_checksum.hpp"
#include "drivers/seq_peek.hpp"

namespace fieldsync::drivers {
namespace {

using core::RejectReason;

FrameRejection Reject(RejectReason reason, std::string detail) {
  return FrameRejection{reason, CutForLog(detail), {}};
}

ParseResult ParseFormat(const FrameSpec& spec, std::string_view text, const TopicCapture& topic) {
  if (topic.metric) return ParseMetricPayload(text, *topic.metric);
  switch (spec.format) {
    case FrameFormat::kJson:
      return ParseJsonFrame(text);
    case FrameFormat::kKv:
      return ParseKvFrame(text);
    case FrameFormat::kCsv:
      return ParseCsvFrame(text, spec.fields);
  }
  return ParseResult::Reject(RejectReason::kParse, "unknown frame format");
}

}  // namespace

bool ResendCanCure(RejectReason reason) {
  return reason == RejectReason::kChecksum || reason == RejectReason::kStoreFull;
}

FrameDecoder::FrameDecoder(FrameSpec spec, const std::map<std::string, core::MetricSpec>& metrics,
                           core::Clock& clock, bool trust_unsynced)
    : spec_(std::move(spec)), metrics_(metrics), clock_(clock), trust_unsynced_(trust_unsynced) {}

DecodeResult FrameDecoder::Decode(std::string_view frame, const TopicCapture& topic) {
  auto rejected = [frame](FrameRejection r, std::optional<std::uint32_t> seq = std::nullopt) {
    r.excerpt = CutForLog(frame);
    return DecodeResult{std::nullopt, std::move(r), seq};
  };

  std::string_view body = frame;
  if (spec_.checksum == Checksum::kNmea) {
    auto stripped = StripNmeaChecksum(frame);
    if (!stripped) return rejected(Reject(RejectReason::kChecksum, stripped.error().message));
    body = *stripped;
  }

  ParseResult parsed = ParseFormat(spec_, body, topic);
  if (!parsed.frame) {
    // A {metric} payload carries no seq; a line format may still show it.
    std::optional<std::uint32_t> seq;
    if (!topic.metric) seq = PeekSeq(spec_, body);
    return rejected(parsed.rejection ? std::move(*parsed.rejection)
                                     : Reject(RejectReason::kParse, "unparsable frame"),
                    seq);
  }

  DecodedFrame out;
  if (auto rejection = Validate(*parsed.frame, topic, out)) {
    return rejected(std::move(*rejection), parsed.frame->seq);
  }

  core::TimeUs ts = 0;
  core::TsSource source = core::TsSource::kDevice;
  if (parsed.frame->ts) {
    ts = *parsed.frame->ts;
  } else {
    ts = NextAgentStamp();
    source = (trust_unsynced_ || clock_.IsSynchronized()) ? core::TsSource::kAgent
                                                          : core::TsSource::kAgentUnsynced;
    if (source == core::TsSource::kAgentUnsynced) {
      last_boot_stamp_ = std::max(clock_.BootTimeUs(), last_boot_stamp_ + 1);
      out.held_boot_us = last_boot_stamp_;
    }
  }
  for (core::Reading& r : out.readings) {
    r.ts = ts;
    r.ts_source = source;
  }
  return DecodeResult{std::move(out), std::nullopt, std::nullopt};
}

std::optional<FrameRejection> FrameDecoder::Validate(const RawFrame& raw, const TopicCapture& topic,
                                                     DecodedFrame& out) {
  if (raw.device) {
    out.device = *raw.device;
  } else if (topic.device) {
    out.device = *topic.device;
  } else {
    out.device = spec_.device;
  }
  if (out.device.empty()) {
    return Reject(RejectReason::kBadName,
                  "no device: the frame, its topic and the input name none");
  }
  if (!core::IsValidDevice(out.device)) {
    return Reject(RejectReason::kBadName, "invalid device name '" + out.device + "'");
  }

  out.readings.reserve(raw.readings.size());
  for (const RawReading& r : raw.readings) {
    if (!core::IsValidMetric(r.metric)) {
      return Reject(RejectReason::kBadName, "invalid metric name '" + r.metric + "'");
    }
    if (!std::isfinite(r.value)) {
      return Reject(RejectReason::kBadValue, "value of '" + r.metric + "' is not finite");
    }
    double value = r.value;
    if (auto it = metrics_.find(r.metric); it != metrics_.end()) {
      value = value * it->second.scale + it->second.offset;
      if (!std::isfinite(value)) {
        return Reject(RejectReason::kBadValue,
                      "value of '" + r.metric + "' is not finite after scale/offset");
      }
    }
    out.readings.push_back(core::Reading{out.device, r.metric, 0, value, core::TsSource::kAgent});
  }

  if (raw.ts) {
    if (*raw.ts < core::kYear2000Us) {
      return Reject(RejectReason::kBadTs,
                    "ts " + core::FormatRfc3339(*raw.ts) + " is before 2000-01-01");
    }
    if (clock_.IsSynchronized()) {
      core::TimeUs now = clock_.NowUs();
      if (*raw.ts > now + kMaxFutureSkewUs) {
        return Reject(RejectReason::kBadTs, "ts " + core::FormatRfc3339(*raw.ts) +
                                                " is more than 5 minutes ahead of the clock (" +
                                                core::FormatRfc3339(now) + ")");
      }
    }
  }

  if (out.readings.empty()) return Reject(RejectReason::kNoReadings, "the frame has no reading");
  out.seq = raw.seq;
  out.fields_ignored = raw.fields_ignored;
  return std::nullopt;
}

core::TimeUs FrameDecoder::NextAgentStamp() {
  last_stamp_ = std::max(clock_.NowUs(), last_stamp_ + 1);
  return last_stamp_;
}

}  // namespace fieldsync::drivers
