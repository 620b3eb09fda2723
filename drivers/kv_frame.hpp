#pragma once
// The `kv` frame format (§2): `key=value` or `key:value` pairs separated by ',', ';', spaces or
// tabs, with optional spaces or tabs around '=' and ':'. All of these parse:
//   temperature=22.5,humidity=55
//   sensor = 512	 output = 127
//   Temperature: 22.5, Humidity: 55
// A value runs to the next separator, so `ts=2026-11-22T10:15:30Z` keeps its colons. Reserved
// keys as in json: device, ts (epoch number or RFC 3339), seq.
//
// Rejections: a word without '=' or ':' after it, a key that appears twice -> parse (the line is
// not key/value text); an empty or non-numeric value -> bad_value (the line is well-formed and one
// value is what is wrong, the same reason a NaN gets). "nan"/"inf" parse as numbers and are then
// refused by the decoder as bad_value too.

#include <string_view>

#include "drivers/raw_frame.hpp"

namespace fieldsync::drivers {

ParseResult ParseKvFrame(std::string_view text);

}  // namespace fieldsync::drivers
