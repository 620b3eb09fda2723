#pragma once
// FrameDecoder: one frame (a line or a message) to readings, all or nothing (§1, §2).
// One decoder per input: it owns that input's strictly increasing agent timestamps.
// Not thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/metric_spec.hpp"
#include "core/reading.hpp"
#include "core/reject_reason.hpp"
#include "drivers/frame_spec.hpp"

namespace fieldsync::drivers {

// What an MQTT topic template captured for this message (empty for other inputs).
struct TopicCapture {
  std::optional<std::string> device;
  std::optional<std::string> metric;  // set: the payload is a bare number or {"value":n,"ts":..}
};

struct DecodedFrame {
  std::string device;
  std::vector<core::Reading> readings;  // calibrated (scale/offset), validated
  std::optional<std::uint32_t> seq;
  std::int64_t fields_ignored = 0;
};

struct FrameRejection {
  core::RejectReason reason;
  std::string detail;  // for the log: what was wrong, the line cut to 200 bytes
};

struct DecodeResult {
  std::optional<DecodedFrame> frame;        // set when accepted
  std::optional<FrameRejection> rejection;  // set when rejected
};

class FrameDecoder {
 public:
  // `metrics` must outlive the decoder. `trust_unsynced` is [clock] trust_unsynced.
  FrameDecoder(FrameSpec spec, const std::map<std::string, core::MetricSpec>& metrics,
               core::Clock& clock, bool trust_unsynced);

  DecodeResult Decode(std::string_view frame, const TopicCapture& topic = {});

  const FrameSpec& spec() const { return spec_; }

 private:
  core::TimeUs NextAgentStamp();

  FrameSpec spec_;
  const std::map<std::string, core::MetricSpec>& metrics_;
  core::Clock& clock_;
  bool trust_unsynced_;
  core::TimeUs last_stamp_ = 0;
};

}  // namespace fieldsync::drivers
