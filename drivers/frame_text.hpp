#pragma once
// Scalar text as the line formats (kv, csv) and bare MQTT payloads write it, and the reserved
// keys every format shares: `device`, `ts`, `seq` (§1, §2).

#include <cstdint>
#include <optional>
#include <string_view>

#include "drivers/raw_frame.hpp"

namespace fieldsync::drivers {

// A decimal number as C's strtod reads it in the "C" locale, without hex: optional sign, digits,
// optional fraction and exponent; also "inf", "infinity" and "nan" (any case), which parse so that
// the decoder can reject them as bad_value rather than as garbage. The whole text must be used.
std::optional<double> ParseNumberText(std::string_view text);

// A decimal unsigned 32-bit integer ("0".."4294967295"), nothing else.
std::optional<std::uint32_t> ParseSeqText(std::string_view text);

// A numeric epoch (s, ms or µs by magnitude, §1) or an RFC 3339 string, to µs.
std::optional<core::TimeUs> ParseTsText(std::string_view text);

bool IsReservedKey(std::string_view key);

// Stores the reserved key `key` (REQUIRES: IsReservedKey(key)) written as `text` into `frame`.
// Returns the rejection when the text is not valid for that key: device empty -> bad_name,
// ts unreadable -> bad_ts, seq not a uint32 -> bad_value.
std::optional<FrameRejection> SetReservedFromText(std::string_view key, std::string_view text,
                                                  RawFrame& frame);

}  // namespace fieldsync::drivers
