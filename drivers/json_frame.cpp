#include "drivers/json_frame.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace fieldsync::drivers {
namespace {

using core::RejectReason;
using nlohmann::json;

enum class Reserved : unsigned char { kNone, kDevice, kTs, kSeq };

// Receives the parser's events and builds a RawFrame directly. Returning false from an event
// stops the parse; the first rejection recorded wins.
class FrameSax {
 public:
  bool null() { return Ignored("null"); }
  bool boolean(bool v) { return Scalar(v ? 1.0 : 0.0, "a boolean"); }
  bool number_integer(json::number_integer_t v) {
    return Integer(v < 0, static_cast<double>(v), v);
  }
  bool number_unsigned(json::number_unsigned_t v) {
    return Integer(false, static_cast<double>(v), v);
  }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) {
    if (skip_depth_ > 0) return true;
    if (!InObjectMember()) return NotObject();
    switch (reserved_) {
      case Reserved::kTs:
        return SetTs(v);
      case Reserved::kSeq:
        return Fail(RejectReason::kBadValue, "seq must be an integer");
      case Reserved::kDevice:
        return Fail(RejectReason::kBadName, "device must be a string");
      case Reserved::kNone:
        break;
    }
    frame_.readings.push_back(RawReading{key_, v});
    return true;
  }
  bool string(json::string_t& v) {
    if (skip_depth_ > 0) return true;
    if (!InObjectMember()) return NotObject();
    switch (reserved_) {
      case Reserved::kDevice:
        if (v.empty()) return Fail(RejectReason::kBadName, "device is empty");
        frame_.device = std::move(v);
        return true;
      case Reserved::kTs: {
        auto ts = core::ParseRfc3339(v);
        if (!ts) return Fail(RejectReason::kBadTs, "ts: " + ts.error().message);
        frame_.ts = *ts;
        return true;
      }
      case Reserved::kSeq:
        return Fail(RejectReason::kBadValue, "seq must be an integer");
      case Reserved::kNone:
        break;
    }
    ++frame_.fields_ignored;
    return true;
  }
  bool binary(json::binary_t& /*v*/) { return Ignored("binary"); }

  bool start_object(std::size_t /*elements*/) {
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    if (depth_ == 0) {
      if (seen_root_) return NotObject();
      seen_root_ = true;
      depth_ = 1;
      return true;
    }
    if (auto r = RejectReservedContainer()) return *r;
    if (depth_ >= kMaxJsonDepth) {
      return Fail(RejectReason::kParse,
                  "objects nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    prefix_lengths_.push_back(prefix_.size());
    prefix_ = key_;
    prefix_ += '.';
    ++depth_;
    return true;
  }
  bool end_object() {
    if (skip_depth_ > 0) return EndSkipped();
    --depth_;
    if (!prefix_lengths_.empty()) {
      prefix_.resize(prefix_lengths_.back());
      prefix_lengths_.pop_back();
    }
    reserved_ = Reserved::kNone;
    return true;
  }
  bool start_array(std::size_t /*elements*/) {
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    if (depth_ == 0) return NotObject();
    if (auto r = RejectReservedContainer()) return *r;
    skip_depth_ = 1;  // everything inside is ignored; the array counts as one field
    return true;
  }
  bool end_array() { return EndSkipped(); }

  bool key(json::string_t& k) {
    if (skip_depth_ > 0) return true;
    if (k.empty()) return Fail(RejectReason::kBadName, "empty key");
    key_.assign(prefix_).append(k);
    if (!keys_.insert(key_).second) {
      return Fail(RejectReason::kParse, "key '" + key_ + "' appears twice");
    }
    reserved_ = Reserved::kNone;
    if (depth_ == 1) {
      if (k == "device") reserved_ = Reserved::kDevice;
      if (k == "ts") reserved_ = Reserved::kTs;
      if (k == "seq") reserved_ = Reserved::kSeq;
    }
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    return Fail(RejectReason::kParse, ex.what());
  }

  ParseResult Finish(bool parsed) {
    if (rejection_) return ParseResult{std::nullopt, std::move(rejection_)};
    if (!parsed || !seen_root_) return ParseResult::Reject(RejectReason::kParse, "not JSON");
    return ParseResult::Accept(std::move(frame_));
  }

 private:
  bool InObjectMember() const { return depth_ > 0; }
  bool NotObject() { return Fail(RejectReason::kParse, "frame is not a JSON object"); }

  bool Fail(RejectReason reason, std::string detail) {
    if (!rejection_) rejection_ = FrameRejection{reason, CutForLog(detail), {}};
    return false;
  }

  // Rejects the frame because a reserved key holds a value of a type it cannot take.
  bool FailReservedType() {
    switch (reserved_) {
      case Reserved::kDevice:
        return Fail(RejectReason::kBadName, "device must be a string");
      case Reserved::kTs:
        return Fail(RejectReason::kBadTs, "ts must be a number or a string");
      case Reserved::kSeq:
        return Fail(RejectReason::kBadValue, "seq must be an integer");
      case Reserved::kNone:
        break;
    }
    return true;
  }

  bool Ignored(const char* /*what*/) {
    if (skip_depth_ > 0) return true;
    if (!InObjectMember()) return NotObject();
    if (reserved_ != Reserved::kNone) return FailReservedType();
    ++frame_.fields_ignored;
    return true;
  }

  bool Scalar(double v, const char* /*what*/) {
    if (skip_depth_ > 0) return true;
    if (!InObjectMember()) return NotObject();
    if (reserved_ != Reserved::kNone) return FailReservedType();
    frame_.readings.push_back(RawReading{key_, v});
    return true;
  }

  template <class Int>
  bool Integer(bool negative, double as_double, Int v) {
    if (skip_depth_ > 0) return true;
    if (!InObjectMember()) return NotObject();
    switch (reserved_) {
      case Reserved::kTs:
        return SetTs(as_double);
      case Reserved::kSeq:
        if (negative || static_cast<std::uint64_t>(v) > std::numeric_limits<std::uint32_t>::max()) {
          return Fail(RejectReason::kBadValue, "seq is outside 0..4294967295");
        }
        frame_.seq = static_cast<std::uint32_t>(v);
        return true;
      case Reserved::kDevice:
        return Fail(RejectReason::kBadName, "device must be a string");
      case Reserved::kNone:
        break;
    }
    frame_.readings.push_back(RawReading{key_, as_double});
    return true;
  }

  bool SetTs(double v) {
    auto ts = core::EpochNumberToUs(v);
    if (!ts) return Fail(RejectReason::kBadTs, "ts: " + ts.error().message);
    frame_.ts = *ts;
    return true;
  }

  // A reserved key whose value is an object or an array.
  std::optional<bool> RejectReservedContainer() {
    if (reserved_ != Reserved::kNone) return FailReservedType();
    return std::nullopt;
  }

  bool EndSkipped() {
    if (--skip_depth_ == 0) {
      ++frame_.fields_ignored;
      reserved_ = Reserved::kNone;
    }
    return true;
  }

  RawFrame frame_;
  std::optional<FrameRejection> rejection_;
  std::unordered_set<std::string> keys_;  // every flattened key seen, reserved ones included
  std::string prefix_;                    // "a.b." while inside {"a":{"b":{...}}}
  std::vector<size_t> prefix_lengths_;
  std::string key_;        // flattened name of the member whose value comes next
  size_t depth_ = 0;       // object nesting outside arrays; the frame object is 1
  size_t skip_depth_ = 0;  // > 0 inside an ignored array
  bool seen_root_ = false;
  Reserved reserved_ = Reserved::kNone;
};

}  // namespace

ParseResult ParseJsonFrame(std::string_view text) {
  // nlohmann's lexer takes a NUL byte for the end of input, so `{"a":1}\0junk` would parse as
  // `{"a":1}`. JSON text never holds a raw NUL (inside strings it must be escaped): refuse it.
  if (text.find('\0') != std::string_view::npos) {
    return ParseResult::Reject(RejectReason::kParse, "NUL byte in JSON text");
  }
  FrameSax sax;
  bool parsed = false;
  try {
    parsed = json::sax_parse(text.begin(), text.end(), &sax, json::input_format_t::json,
                             /*strict=*/true);
  } catch (const std::exception& e) {
    // The SAX parser reports errors through parse_error; this only catches allocation failure.
    return ParseResult::Reject(RejectReason::kParse, e.what());
  }
  return sax.Finish(parsed);
}

}  // namespace fieldsync::drivers
