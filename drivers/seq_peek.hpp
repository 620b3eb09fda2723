#pragma once
// PeekSeq: the `seq` of a frame its format parser refused, when it can still be read (§2).
//
// A serial frame rejected for a reason a resend cannot cure is acknowledged all the same, so that
// firmware keeping unacknowledged frames stops resending it; that needs the frame's seq even
// though the frame as a whole did not parse. This reads only the reserved `seq`, with the same
// rules as the format parsers, and gives up whenever the answer would be a guess:
//   - json: the text is a JSON object whose top-level `seq` appears once, as an integer in
//     0..4294967295 (a frame refused for a bad value or a duplicate key elsewhere still has it);
//   - kv:   exactly one `seq` key, whose value is a valid unsigned 32-bit integer;
//   - csv:  the row has the input's number of cells and the column named `seq` holds one.
// Plain code over values, no I/O. Thread-safe (no state).

#include <cstdint>
#include <optional>
#include <string_view>

#include "drivers/frame_spec.hpp"

namespace fieldsync::drivers {

std::optional<std::uint32_t> PeekSeq(const FrameSpec& spec, std::string_view text);

}  // namespace fieldsync::drivers
