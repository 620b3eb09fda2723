#pragma once
// FrameDecoder: one frame (a line or a message) to readings, all or nothing (§1, §2).
// One decoder per input: it owns that input's strictly increasing agent timestamps.
// Not thread-safe.
//
// Decode applies, in this order (the first failure rejects the whole frame):
//  1. with checksum = nmea, the `*HH` suffix is checked and removed          -> checksum
//  2. the format parser (json, kv, csv; or the {metric} payload of a topic)  -> parse, bad_value..
//  3. device = the frame's `device`, else the topic's {device}, else spec.device; missing or not
//     a valid device name                                                   -> bad_name
//  4. every metric name is valid (core::IsValidMetric)                       -> bad_name
//  5. every value is finite before and after calibration (raw*scale+offset) -> bad_value
//  6. a frame `ts` is on or after 2000-01-01 and, while the clock is synchronised, at most
//     5 minutes ahead of clock.NowUs()                                      -> bad_ts
//  7. at least one reading                                                  -> no_readings
// A rejected frame's `seq` is reported (DecodeResult::rejected_seq) whenever it can be read: from
// the parsed frame for rejections 3-7, by PeekSeq (seq_peek.hpp) when the parser refused it, never
// for a checksum failure (the line is corrupt, its seq may be too).
// Accepted frames without `ts` are stamped max(clock.NowUs(), previous stamp + 1 µs): stamps
// never repeat even when the clock stands still or steps back. Rejected frames consume no stamp.
// A stamp taken while the clock is not synchronised (and trust_unsynced is off) also carries its
// boot-relative time, max(clock.BootTimeUs(), previous one + 1 µs), so that the store can hold
// the frame and re-stamp it once the clock synchronises (§10, store/clock_hold.hpp).

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
#include "drivers/raw_frame.hpp"      // FrameRejection
#include "drivers/topic_capture.hpp"  // TopicCapture

namespace fieldsync::drivers {

// How far ahead of a synchronised clock a device timestamp may be (§1).
inline constexpr core::TimeUs kMaxFutureSkewUs = 5 * 60 * core::kMicrosPerSecond;

struct DecodedFrame {
  std::string device;
  std::vector<core::Reading> readings;  // calibrated (scale/offset), validated, one ts for all
  std::optional<std::uint32_t> seq;
  // Set by an input whose SeqTracker classified `seq` (serial): the store then records the seq
  // with the frame, so that the window survives a restart (store/seq_window.hpp).
  bool seq_tracked = false;
  std::int64_t fields_ignored = 0;
  // Set only with ts_source kAgentUnsynced: the CLOCK_BOOTTIME of the stamp (§10). The frame's
  // readings are then held by the store (store::IngestFrame::held_boot_us).
  std::optional<core::TimeUs> held_boot_us;
};

struct DecodeResult {
  std::optional<DecodedFrame> frame;          // set when accepted
  std::optional<FrameRejection> rejection;    // set when rejected; excerpt = frame cut to 200 bytes
  std::optional<std::uint32_t> rejected_seq;  // a rejected frame's seq, when it could be read

  bool accepted() const { return frame.has_value(); }
};

// Whether sending the same frame again may get it accepted: a checksum failure (the line was
// damaged on the wire) or a store that refuses new data (store_full). Every other rejection would
// refuse the resend the same way, so a serial frame refused for it is acknowledged anyway (§2).
bool ResendCanCure(core::RejectReason reason);

class FrameDecoder {
 public:
  // `metrics` (calibration by metric name) and `clock` must outlive the decoder.
  // `trust_unsynced` is [clock] trust_unsynced: stamps taken while the clock is not synchronised
  // are then marked kAgent instead of kAgentUnsynced.
  FrameDecoder(FrameSpec spec, const std::map<std::string, core::MetricSpec>& metrics,
               core::Clock& clock, bool trust_unsynced);

  // `topic` is what the input's topic template captured (MQTT), empty otherwise.
  DecodeResult Decode(std::string_view frame, const TopicCapture& topic = {});

  const FrameSpec& spec() const { return spec_; }

 private:
  core::TimeUs NextAgentStamp();
  std::optional<FrameRejection> Validate(const RawFrame& raw, const TopicCapture& topic,
                                         DecodedFrame& out);

  FrameSpec spec_;
  const std::map<std::string, core::MetricSpec>& metrics_;
  core::Clock& clock_;
  bool trust_unsynced_;
  core::TimeUs last_stamp_ = 0;
  core::TimeUs last_boot_stamp_ = 0;
};

}  // namespace fieldsync::drivers
