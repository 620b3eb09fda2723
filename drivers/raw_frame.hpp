#pragma once
// RawFrame: what a format parser (json, kv, csv) makes of one frame before the decoder validates
// names, values and times; FrameRejection: why a frame was refused (§2).
// Plain values, no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/reject_reason.hpp"
#include "core/time.hpp"

namespace fieldsync::drivers {

// The longest excerpt of an offending frame kept for the log (§2).
inline constexpr size_t kMaxExcerptBytes = 200;

struct RawReading {
  std::string metric;  // as written in the frame (flattened for nested JSON); not yet validated
  double value = 0.0;  // as written; not yet calibrated, may be NaN/Inf (the decoder rejects it)

  friend bool operator==(const RawReading&, const RawReading&) = default;
};

struct RawFrame {
  std::optional<std::string> device;  // the frame's reserved `device` key
  std::optional<core::TimeUs> ts;  // the frame's reserved `ts`, converted to µs; not range-checked
  std::optional<std::uint32_t> seq;  // the frame's reserved `seq`
  std::vector<RawReading> readings;  // in frame order
  std::int64_t fields_ignored = 0;   // json strings, nulls and arrays
};

struct FrameRejection {
  core::RejectReason reason = core::RejectReason::kParse;
  std::string detail;   // what was wrong, for the log; at most kMaxExcerptBytes bytes
  std::string excerpt;  // the offending frame cut to kMaxExcerptBytes bytes (filled by the decoder)
};

// Either a frame or the reason it was refused; exactly one is set.
struct ParseResult {
  std::optional<RawFrame> frame;
  std::optional<FrameRejection> rejection;

  static ParseResult Accept(RawFrame f) { return ParseResult{std::move(f), std::nullopt}; }
  static ParseResult Reject(core::RejectReason reason, std::string detail);
};

// `text` cut to at most `max_bytes`, never splitting a UTF-8 sequence.
std::string CutForLog(std::string_view text, size_t max_bytes = kMaxExcerptBytes);

// A rejection whose detail and excerpt are cut to kMaxExcerptBytes.
FrameRejection MakeRejection(core::RejectReason reason, std::string_view detail,
                             std::string_view frame);

}  // namespace fieldsync::drivers
