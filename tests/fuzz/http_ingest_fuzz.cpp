// Fuzz target: the body of POST /api/data (DecodeIngestBody, RenderIngestCounts).
//
// Input layout (see docs/fuzzing.md):
//   byte 0   flags, low nibble: 1 clock not synchronised, 2 trust_unsynced, 4 the input names a
//            device
//   rest     the request body
//
// Checked:
//  - the body is split into as many frames as it holds: one for an object, one per element for a
//    JSON array (counted by a separate SAX pass), one parse rejection for anything else;
//  - an array element that is not an object is a parse rejection;
//  - a body holding a NUL byte accepts nothing;
//  - rejected-by-reason counts add up to the rejections; details and excerpts are cut to 200 bytes;
//  - accepted frames hold valid names and finite values; frames without `ts` get strictly
//    increasing agent stamps in body order;
//  - the response document renders as JSON with the same counts.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/names.hpp"
#include "drivers/http_ingest.hpp"
#include "fuzz_check.hpp"

namespace {

namespace core = fieldsync::core;
namespace drivers = fieldsync::drivers;
using fieldsync::fuzz::Printable;
using nlohmann::json;

// Counts the elements of a top-level array (and how many are objects) without building a tree.
class TopLevelShape : public json::json_sax_t {
 public:
  bool array = false;
  bool object = false;
  size_t elements = 0;
  size_t object_elements = 0;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) object = true;
    if (depth_ == 1) ++object_elements;
    Value();
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) array = true;
    Value();
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool key(string_t&) override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool Value() {
    if (depth_ == 1 && array) ++elements;
    return true;
  }
  int depth_ = 0;
};

const std::map<std::string, core::MetricSpec>& NoCalibration() {
  static const auto* metrics = new std::map<std::string, core::MetricSpec>();
  return *metrics;
}

bool StartsWithObject(std::string_view body) {
  size_t i = body.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && body[i] == '{';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  if (size < 1) return -1;
  const bool unsynced = (data[0] & 1u) != 0;
  const bool trust_unsynced = (data[0] & 2u) != 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  core::FakeClock clock;
  clock.SetSynchronized(!unsynced);
  drivers::FrameSpec spec;  // json, as the http input is
  if ((data[0] & 4u) != 0) spec.device = "http-dev";
  drivers::FrameDecoder decoder(spec, NoCalibration(), clock, trust_unsynced);
  const core::TimeUs now = clock.NowUs();

  drivers::IngestBody out = drivers::DecodeIngestBody(body, decoder);

  // How many frames the body holds.
  const size_t decided = out.frames.size() + out.rejections.size();
  size_t parse_rejections = 0;
  for (const auto& r : out.rejections) {
    parse_rejections += r.reason == core::RejectReason::kParse ? 1 : 0;
  }
  TopLevelShape shape;
  // nlohmann stops at a NUL byte as if the input ended there; JSON text never holds one raw.
  const bool valid_json = body.find('\0') == std::string_view::npos &&
                          json::sax_parse(body.begin(), body.end(), &shape);
  if (StartsWithObject(body)) {
    FUZZ_CHECK(decided == 1,
               "object body gave " + std::to_string(decided) + " frames: " + Printable(body));
  } else if (valid_json && shape.array) {
    FUZZ_CHECK(decided == shape.elements, "array of " + std::to_string(shape.elements) +
                                              " elements gave " + std::to_string(decided) +
                                              " frames: " + Printable(body));
    FUZZ_CHECK(parse_rejections >= shape.elements - shape.object_elements,
               "non-object elements not refused: " + Printable(body));
  } else {
    FUZZ_CHECK(decided == 1 && out.frames.empty() && parse_rejections == 1,
               "not an object nor an array, yet " + std::to_string(out.frames.size()) +
                   " frames: " + Printable(body));
  }

  FUZZ_CHECK(out.frames.empty() || body.find('\0') == std::string_view::npos,
             "body with a NUL byte accepted: " + Printable(body));

  // Rejections and their counts.
  std::int64_t counted = 0;
  for (const auto& [reason, n] : out.rejected) {
    FUZZ_CHECK(n > 0, std::string(core::ToString(reason)));
    counted += n;
  }
  FUZZ_CHECK(counted == static_cast<std::int64_t>(out.rejections.size()), "rejected counts");
  for (const auto& r : out.rejections) {
    FUZZ_CHECK(r.detail.size() <= drivers::kMaxExcerptBytes, r.detail);
    FUZZ_CHECK(r.excerpt.size() <= drivers::kMaxExcerptBytes, Printable(r.excerpt));
  }

  // Accepted frames.
  core::TimeUs last_agent_stamp = 0;
  std::int64_t readings = 0;
  for (const auto& f : out.frames) {
    readings += static_cast<std::int64_t>(f.readings.size());
    FUZZ_CHECK(core::IsValidDevice(f.device) && !f.readings.empty(), Printable(f.device));
    for (const auto& r : f.readings) {
      FUZZ_CHECK(r.device == f.device && core::IsValidMetric(r.metric) && std::isfinite(r.value),
                 Printable(r.metric));
      FUZZ_CHECK(r.ts == f.readings.front().ts, "one ts per frame");
    }
    if (f.readings.front().ts_source != core::TsSource::kDevice) {
      core::TimeUs ts = f.readings.front().ts;
      FUZZ_CHECK(ts > last_agent_stamp && ts >= now, "agent stamps of one body must increase");
      last_agent_stamp = ts;
    }
  }

  // The response document.
  drivers::IngestCounts counts;
  counts.accepted = readings;
  counts.rejected = out.rejected;
  const std::string response = drivers::RenderIngestCounts(counts);
  json doc = json::parse(response, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!doc.is_discarded() && doc.is_object(), response);
  FUZZ_CHECK(doc.value("accepted", std::int64_t{-1}) == readings, response);
  FUZZ_CHECK(doc.contains("rejected") && doc["rejected"].size() == out.rejected.size(), response);
  for (const auto& [reason, n] : out.rejected) {
    const std::string name(core::ToString(reason));
    FUZZ_CHECK(doc["rejected"].value(name, std::int64_t{-1}) == n, response);
  }
  return 0;
}
