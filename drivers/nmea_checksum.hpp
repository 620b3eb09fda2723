#pragma once
// NMEA-style line checksum (§2, `checksum = "nmea"`): a line ends in `*HH`, two hex digits (either
// case) giving the XOR of every byte before the `*`. Every byte counts, including a leading '$'
// (unlike NMEA 0183, which skips it): firmware computes it over exactly what it prints.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace fieldsync::drivers {

// XOR of all bytes of `text`.
std::uint8_t NmeaXor(std::string_view text);

// Returns the line without its `*HH` suffix when the checksum is present and right; an Error
// (kParse) saying what is wrong otherwise. The returned view points into `line`.
core::Expected<std::string_view> StripNmeaChecksum(std::string_view line);

// `text` followed by its `*HH` suffix (upper-case hex), for firmware simulators and tests.
std::string AppendNmeaChecksum(std::string_view text);

}  // namespace fieldsync::drivers
