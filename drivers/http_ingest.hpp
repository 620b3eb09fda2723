#pragma once
// The body rules of POST /api/data (§8): one JSON frame, or a JSON array of frames. Each frame
// goes through the input's FrameDecoder on its own, so one bad frame rejects only itself; frames
// of one body without `ts` get distinct, increasing agent stamps from the decoder.
// Plain code over values, no I/O. Not thread-safe (the decoder is not).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/reject_reason.hpp"
#include "drivers/frame_decoder.hpp"

namespace fieldsync::drivers {

// The largest body POST /api/data accepts (§8); a larger one is answered 413 unread.
inline constexpr std::size_t kMaxIngestBodyBytes = 1024 * 1024;

struct IngestBody {
  std::vector<DecodedFrame> frames;                     // accepted by the decoder, in body order
  std::vector<FrameRejection> rejections;               // refused by the decoder, in body order
  std::map<core::RejectReason, std::int64_t> rejected;  // rejections counted by reason
};

// Splits `body` into frames and decodes each. A body that is not JSON, or JSON that is neither an
// object nor an array, is one frame rejected with `parse`; an array element that is not an object
// is one frame rejected with `parse`. An empty array yields nothing.
IngestBody DecodeIngestBody(std::string_view body, FrameDecoder& decoder);

// What POST /api/data answers: {"accepted": n, "duplicates": n, "rejected": {"reason": n}}.
struct IngestCounts {
  std::int64_t accepted = 0;                            // readings newly stored
  std::int64_t duplicates = 0;                          // readings already stored
  std::map<core::RejectReason, std::int64_t> rejected;  // frames refused, by reason
};

std::string RenderIngestCounts(const IngestCounts& counts);

}  // namespace fieldsync::drivers
