#include "drivers/line_framer.hpp"

#include <algorithm>
#include <cstring>

namespace fieldsync::drivers {
namespace {

bool IsBlank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t'; });
}

}  // namespace

LineFramer::LineFramer(size_t max_line) : max_line_(max_line == 0 ? 1 : max_line) {
  line_.reserve(std::min<size_t>(max_line_, 4096));
}

void LineFramer::Feed(std::string_view bytes, const FramerSink& sink) {
  while (!bytes.empty()) {
    const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
    if (nl == nullptr) {
      Append(bytes, sink);
      return;
    }
    size_t len = static_cast<size_t>(static_cast<const char*>(nl) - bytes.data());
    Append(bytes.substr(0, len), sink);
    EndLine(sink);
    bytes.remove_prefix(len + 1);
  }
}

void LineFramer::Finish(const FramerSink& sink) {
  if (!discarding_ && (pending_cr_ || !line_.empty())) EndLine(sink);
  Reset();
}

void LineFramer::Reset() {
  line_.clear();
  pending_cr_ = false;
  discarding_ = false;
}

// `bytes` holds no '\n'. A final '\r' is held back: it is stripped if '\n' comes next.
void LineFramer::Append(std::string_view bytes, const FramerSink& sink) {
  if (discarding_ || bytes.empty()) return;
  if (pending_cr_) {
    pending_cr_ = false;
    AppendBounded("\r", sink);
    if (discarding_) return;
  }
  if (bytes.back() == '\r') {
    bytes.remove_suffix(1);
    AppendBounded(bytes, sink);
    if (!discarding_) pending_cr_ = true;
    return;
  }
  AppendBounded(bytes, sink);
}

void LineFramer::AppendBounded(std::string_view bytes, const FramerSink& sink) {
  if (line_.size() + bytes.size() <= max_line_) {
    line_.append(bytes);
    return;
  }
  // Report what fits, never holding more than max_line bytes.
  line_.append(bytes.substr(0, max_line_ - line_.size()));
  sink(FramerEvent{FramerEvent::Kind::kTooLong, line_});
  line_.clear();
  pending_cr_ = false;
  discarding_ = true;
}

void LineFramer::EndLine(const FramerSink& sink) {
  pending_cr_ = false;  // the stripped trailing '\r'
  if (discarding_) {
    discarding_ = false;
    return;
  }
  if (!IsBlank(line_)) sink(FramerEvent{FramerEvent::Kind::kLine, line_});
  line_.clear();
}

}  // namespace fieldsync::drivers
