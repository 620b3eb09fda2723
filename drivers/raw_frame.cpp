#include "drivers/raw_frame.hpp"

namespace fieldsync::drivers {

ParseResult ParseResult::Reject(core::RejectReason reason, std::string detail) {
  return ParseResult{std::nullopt, FrameRejection{reason, CutForLog(detail), {}}};
}

std::string CutForLog(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) so a multi-byte character is not split.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0u) == 0x80u) --end;
  return std::string(text.substr(0, end));
}

FrameRejection MakeRejection(core::RejectReason reason, std::string_view detail,
                             std::string_view frame) {
  return FrameRejection{reason, CutForLog(detail), CutForLog(frame)};
}

}  // namespace fieldsync::drivers
