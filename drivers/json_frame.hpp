#pragma once
// The `json` frame format (§2): one JSON object per frame.
//
// - Numeric members become readings; true/false become 1/0.
// - Nested objects are flattened with '.': {"dc":{"v1":230}} gives metric "dc.v1".
// - Strings, nulls and arrays are ignored, each counted once in fields_ignored (an array counts
//   as one field whatever it holds).
// - Top-level `device` (string), `ts` (number: s/ms/µs by magnitude, or an RFC 3339 string) and
//   `seq` (integer 0..4294967295) are reserved; nested members with those names are readings.
// Rejections: not one JSON object, malformed JSON, a key that appears twice at any level once
// flattened ({"a.b":1,"a":{"b":2}} included), nesting deeper than kMaxJsonDepth -> parse;
// an empty key or a non-string device -> bad_name; an unreadable ts -> bad_ts; a seq that is not
// a uint32 -> bad_value.
//
// Parsed with nlohmann::json's SAX interface: no document tree is built, and duplicates are seen
// (the DOM parser would keep only the last value).

#include <string_view>

#include "drivers/raw_frame.hpp"

namespace fieldsync::drivers {

// Object nesting depth allowed (the frame itself is depth 1). Metric names are at most 64
// characters, so deeper keys could not name a valid metric anyway.
inline constexpr size_t kMaxJsonDepth = 32;

ParseResult ParseJsonFrame(std::string_view text);

}  // namespace fieldsync::drivers
