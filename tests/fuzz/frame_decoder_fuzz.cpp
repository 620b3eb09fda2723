// Fuzz target: the frame formats (json, kv, csv, the {metric} payload) and FrameDecoder.
//
// Input layout (see docs/fuzzing.md):
//   byte 0   format: 'j' json, 'k' kv, 'c' csv, 'm' metric payload (others: byte % 4)
//   byte 1   flags, low nibble: 1 clock not synchronised, 2 trust_unsynced, 4 the input (or the
//            topic, for 'm') names a device, 8 an invalid metric name in the capture / csv fields
//   rest     frames separated by '\n', decoded in order by the same decoders
//
// Each frame goes through the format parser directly and through three decoders sharing one
// FakeClock: checksum none on the frame, checksum nmea on the frame plus its right `*HH`, and
// checksum nmea on the frame as is. Checked:
//  - a ParseResult holds exactly one of frame/rejection; details and excerpts are cut to 200 bytes;
//  - an accepted frame: valid device, valid metric names, finite values equal to raw*scale+offset,
//    one ts for all readings, a device ts within [2000-01-01, now + 5 min] (clock synchronised),
//    agent stamps strictly increasing and never behind the clock, readings as the parser read them;
//  - a rejection after a successful parse names a reason the raw frame really has;
//  - the right checksum changes nothing: the nmea decoder gives exactly the plain decoder's result;
//  - a frame holding a NUL byte is never accepted.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/names.hpp"
#include "drivers/csv_frame.hpp"
#include "drivers/frame_decoder.hpp"
#include "drivers/json_frame.hpp"
#include "drivers/kv_frame.hpp"
#include "drivers/metric_payload.hpp"
#include "drivers/nmea_checksum.hpp"
#include "fuzz_check.hpp"

namespace {

using fieldsync::core::RejectReason;
using fieldsync::core::TsSource;
using fieldsync::fuzz::Printable;
namespace core = fieldsync::core;
namespace drivers = fieldsync::drivers;

enum class Mode : unsigned char { kJson, kKv, kCsv, kMetric };

constexpr size_t kMaxFramesPerInput = 64;

Mode ModeOf(unsigned char b) {
  switch (b) {
    case 'j':
      return Mode::kJson;
    case 'k':
      return Mode::kKv;
    case 'c':
      return Mode::kCsv;
    case 'm':
      return Mode::kMetric;
    default:
      return static_cast<Mode>(b % 4);
  }
}

const std::map<std::string, core::MetricSpec>& Calibrations() {
  static const auto* metrics = [] {
    auto* m = new std::map<std::string, core::MetricSpec>();
    (*m)["temperature"].scale = 1.8;
    (*m)["temperature"].offset = 32.0;
    (*m)["humidity"].scale = 1e300;  // overflows to inf for large raw values: bad_value
    (*m)["dc.v1"].scale = 0.5;
    (*m)["dc.v1"].offset = -1e308;
    return m;
  }();
  return *metrics;
}

struct Setup {
  Mode mode = Mode::kJson;
  bool unsynced = false;
  bool trust_unsynced = false;
  bool named_device = false;
  bool bad_metric = false;

  drivers::FrameSpec Spec(drivers::Checksum checksum) const {
    drivers::FrameSpec spec;
    spec.format = mode == Mode::kKv    ? drivers::FrameFormat::kKv
                  : mode == Mode::kCsv ? drivers::FrameFormat::kCsv
                                       : drivers::FrameFormat::kJson;
    if (bad_metric) {
      spec.fields = {"ts", "bad name", "x", "device"};
    } else {
      spec.fields = {"device", "ts", "temperature", "humidity", "seq", "dc.v1"};
    }
    if (named_device && mode != Mode::kMetric) spec.device = "input-dev_1";
    spec.checksum = checksum;
    return spec;
  }

  drivers::TopicCapture Capture() const {
    drivers::TopicCapture capture;
    if (mode != Mode::kMetric) return capture;
    if (named_device) capture.device = "topic:dev.2";
    capture.metric = bad_metric ? "bad metric" : "temperature";
    return capture;
  }
};

drivers::ParseResult ParseDirect(const Setup& setup, const drivers::FrameSpec& spec,
                                 std::string_view frame) {
  switch (setup.mode) {
    case Mode::kJson:
      return drivers::ParseJsonFrame(frame);
    case Mode::kKv:
      return drivers::ParseKvFrame(frame);
    case Mode::kCsv:
      return drivers::ParseCsvFrame(frame, spec.fields);
    case Mode::kMetric:
      return drivers::ParseMetricPayload(frame, *setup.Capture().metric);
  }
  return drivers::ParseJsonFrame(frame);
}

void CheckParseResult(const drivers::ParseResult& r, std::string_view frame) {
  FUZZ_CHECK(r.frame.has_value() != r.rejection.has_value(), "frame: " + Printable(frame));
  if (r.rejection) {
    FUZZ_CHECK(r.rejection->detail.size() <= drivers::kMaxExcerptBytes, r.rejection->detail);
    FUZZ_CHECK(r.rejection->reason != RejectReason::kChecksum &&
                   r.rejection->reason != RejectReason::kTooLong &&
                   r.rejection->reason != RejectReason::kStoreFull,
               std::string(core::ToString(r.rejection->reason)));
  } else {
    FUZZ_CHECK(r.frame->fields_ignored >= 0, "frame: " + Printable(frame));
  }
}

// What Validate must have found wrong in `raw` to reject it for `reason`.
bool RawFrameHas(RejectReason reason, const drivers::RawFrame& raw, const std::string& device,
                 core::Clock& clock) {
  switch (reason) {
    case RejectReason::kBadName: {
      if (!core::IsValidDevice(device)) return true;
      for (const auto& r : raw.readings) {
        if (!core::IsValidMetric(r.metric)) return true;
      }
      return false;
    }
    case RejectReason::kBadValue:
      for (const auto& r : raw.readings) {
        if (!std::isfinite(r.value)) return true;
        auto it = Calibrations().find(r.metric);
        if (it != Calibrations().end() &&
            !std::isfinite(r.value * it->second.scale + it->second.offset)) {
          return true;
        }
      }
      return false;
    case RejectReason::kBadTs:
      return raw.ts &&
             (*raw.ts < core::kYear2000Us ||
              (clock.IsSynchronized() && *raw.ts > clock.NowUs() + drivers::kMaxFutureSkewUs));
    case RejectReason::kNoReadings:
      return raw.readings.empty();
    default:
      return false;
  }
}

class DecoderUnderTest {
 public:
  DecoderUnderTest(const Setup& setup, drivers::Checksum checksum, core::FakeClock& clock)
      : setup_(setup),
        clock_(clock),
        decoder_(setup.Spec(checksum), Calibrations(), clock, setup.trust_unsynced) {}

  drivers::DecodeResult Decode(std::string_view frame) {
    core::TimeUs now = clock_.NowUs();
    drivers::DecodeResult r = decoder_.Decode(frame, setup_.Capture());
    FUZZ_CHECK(r.frame.has_value() != r.rejection.has_value(), "frame: " + Printable(frame));
    FUZZ_CHECK(r.accepted() == r.frame.has_value(), "");
    if (!r.accepted()) {
      const auto& rej = *r.rejection;
      FUZZ_CHECK(rej.detail.size() <= drivers::kMaxExcerptBytes, rej.detail);
      FUZZ_CHECK(rej.excerpt == drivers::CutForLog(frame), "excerpt: " + Printable(rej.excerpt));
      FUZZ_CHECK(rej.reason != RejectReason::kTooLong && rej.reason != RejectReason::kStoreFull,
                 std::string(core::ToString(rej.reason)));
      return r;
    }
    const drivers::DecodedFrame& f = *r.frame;
    FUZZ_CHECK(core::IsValidDevice(f.device), "device: " + Printable(f.device));
    FUZZ_CHECK(!f.readings.empty(), "accepted frame without readings: " + Printable(frame));
    FUZZ_CHECK(f.fields_ignored >= 0, "");
    const core::TimeUs ts = f.readings.front().ts;
    const TsSource source = f.readings.front().ts_source;
    for (const core::Reading& reading : f.readings) {
      FUZZ_CHECK(reading.device == f.device, "reading device " + Printable(reading.device));
      FUZZ_CHECK(core::IsValidMetric(reading.metric), "metric: " + Printable(reading.metric));
      FUZZ_CHECK(std::isfinite(reading.value), "metric " + reading.metric);
      FUZZ_CHECK(reading.ts == ts && reading.ts_source == source, "one ts per frame");
    }
    if (source == TsSource::kDevice) {
      FUZZ_CHECK(ts >= core::kYear2000Us, "device ts " + std::to_string(ts));
      FUZZ_CHECK(!clock_.IsSynchronized() || ts <= now + drivers::kMaxFutureSkewUs,
                 "device ts " + std::to_string(ts) + " now " + std::to_string(now));
    } else {
      FUZZ_CHECK(ts > last_agent_stamp_ && ts >= now,
                 "agent stamp " + std::to_string(ts) + " after " +
                     std::to_string(last_agent_stamp_) + ", now " + std::to_string(now));
      last_agent_stamp_ = ts;
      bool trusted = setup_.trust_unsynced || clock_.IsSynchronized();
      FUZZ_CHECK(source == (trusted ? TsSource::kAgent : TsSource::kAgentUnsynced), "ts_source");
    }
    return r;
  }

 private:
  const Setup& setup_;
  core::FakeClock& clock_;
  drivers::FrameDecoder decoder_;
  core::TimeUs last_agent_stamp_ = 0;
};

// The decoder against what the parser alone made of the same frame.
void CheckAgainstParser(const Setup& setup, const drivers::FrameSpec& spec,
                        const drivers::ParseResult& parsed, const drivers::DecodeResult& decoded,
                        std::string_view frame, core::FakeClock& clock) {
  if (parsed.rejection) {
    FUZZ_CHECK(!decoded.accepted(), "parser refused, decoder accepted: " + Printable(frame));
    FUZZ_CHECK(decoded.rejection->reason == parsed.rejection->reason &&
                   decoded.rejection->detail == parsed.rejection->detail,
               "decoder: " + decoded.rejection->detail + " / parser: " + parsed.rejection->detail);
    return;
  }
  const drivers::RawFrame& raw = *parsed.frame;
  drivers::TopicCapture capture = setup.Capture();
  std::string device = raw.device ? *raw.device : capture.device ? *capture.device : spec.device;
  if (!decoded.accepted()) {
    RejectReason reason = decoded.rejection->reason;
    FUZZ_CHECK(RawFrameHas(reason, raw, device, clock),
               std::string(core::ToString(reason)) +
                   " for a frame without that fault: " + Printable(frame));
    return;
  }
  const drivers::DecodedFrame& f = *decoded.frame;
  FUZZ_CHECK(f.device == device, "device " + Printable(f.device) + " expected " + device);
  FUZZ_CHECK(f.seq == raw.seq && f.fields_ignored == raw.fields_ignored, Printable(frame));
  FUZZ_CHECK(f.readings.size() == raw.readings.size(), Printable(frame));
  for (size_t i = 0; i < raw.readings.size(); ++i) {
    const auto& in = raw.readings[i];
    const auto& out = f.readings[i];
    FUZZ_CHECK(out.metric == in.metric, "metric order: " + Printable(frame));
    double expected = in.value;
    if (auto it = Calibrations().find(in.metric); it != Calibrations().end()) {
      expected = in.value * it->second.scale + it->second.offset;
    }
    FUZZ_CHECK(out.value == expected, "value of " + in.metric + ": " + Printable(frame));
  }
  if (raw.ts) {
    FUZZ_CHECK(
        f.readings.front().ts == *raw.ts && f.readings.front().ts_source == TsSource::kDevice,
        Printable(frame));
  } else {
    FUZZ_CHECK(f.readings.front().ts_source != TsSource::kDevice, Printable(frame));
  }
}

void CheckSameResult(const drivers::DecodeResult& a, const drivers::DecodeResult& b,
                     std::string_view frame) {
  FUZZ_CHECK(a.accepted() == b.accepted(), "checksum changed the verdict: " + Printable(frame));
  if (!a.accepted()) {
    FUZZ_CHECK(
        a.rejection->reason == b.rejection->reason && a.rejection->detail == b.rejection->detail,
        a.rejection->detail + " / " + b.rejection->detail);
    return;
  }
  FUZZ_CHECK(a.frame->device == b.frame->device && a.frame->readings == b.frame->readings &&
                 a.frame->seq == b.frame->seq && a.frame->fields_ignored == b.frame->fields_ignored,
             "checksum changed the frame: " + Printable(frame));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  if (size < 2) return -1;
  Setup setup;
  setup.mode = ModeOf(data[0]);
  setup.unsynced = (data[1] & 1u) != 0;
  setup.trust_unsynced = (data[1] & 2u) != 0;
  setup.named_device = (data[1] & 4u) != 0;
  setup.bad_metric = (data[1] & 8u) != 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);

  core::FakeClock clock;
  clock.SetSynchronized(!setup.unsynced);
  const drivers::FrameSpec plain_spec = setup.Spec(drivers::Checksum::kNone);
  DecoderUnderTest plain(setup, drivers::Checksum::kNone, clock);
  DecoderUnderTest summed(setup, drivers::Checksum::kNmea, clock);
  DecoderUnderTest unchecked(setup, drivers::Checksum::kNmea, clock);

  size_t count = 0;
  while (count < kMaxFramesPerInput) {
    size_t nl = rest.find('\n');
    std::string_view frame = rest.substr(0, nl);
    drivers::ParseResult parsed = ParseDirect(setup, plain_spec, frame);
    CheckParseResult(parsed, frame);

    drivers::DecodeResult a = plain.Decode(frame);
    // No format lets a NUL byte through: JSON never holds one raw, and names and numbers cannot.
    FUZZ_CHECK(!a.accepted() || frame.find('\0') == std::string_view::npos,
               "frame with a NUL byte accepted: " + Printable(frame));
    CheckAgainstParser(setup, plain_spec, parsed, a, frame, clock);
    drivers::DecodeResult b = summed.Decode(drivers::AppendNmeaChecksum(frame));
    CheckSameResult(a, b, frame);
    drivers::DecodeResult c = unchecked.Decode(frame);
    if (!drivers::StripNmeaChecksum(frame)) {
      FUZZ_CHECK(!c.accepted() && c.rejection->reason == RejectReason::kChecksum,
                 "bad checksum not refused: " + Printable(frame));
    }

    // The clock stands still, steps forward, or steps back: agent stamps must still increase.
    switch (count % 3) {
      case 1:
        clock.Advance(core::kMicrosPerSecond);
        break;
      case 2:
        clock.SetWallOnly(clock.NowUs() - 2 * core::kMicrosPerSecond);
        break;
      default:
        break;
    }
    ++count;
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return 0;
}
