#pragma once
// LineFramer: cuts a byte stream (serial reads, a file, stdin) into lines (§2).
//
// Bytes arrive in chunks of any size, a line may span many chunks. A line ends at '\n'; one
// trailing '\r' is stripped; lines that are empty or hold only spaces and tabs are skipped.
// A line longer than max_line bytes (not counting the stripped "\r\n") is reported once as
// too long as soon as it overflows; its remaining bytes are discarded up to the next '\n', where
// framing resynchronises. Invariant: buffered_size() <= max_line at all times, whatever the input.
//
// Not thread-safe: one framer per input, fed from one thread.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace fieldsync::drivers {

struct FramerEvent {
  enum class Kind : unsigned char {
    kLine,     // `text` is one complete line, without "\r\n"
    kTooLong,  // `text` is the start of an over-long line (at most max_line bytes), for the log
  };
  Kind kind = Kind::kLine;
  std::string_view text;  // valid only during the callback
};

using FramerSink = std::function<void(const FramerEvent&)>;

class LineFramer {
 public:
  // REQUIRES: max_line > 0.
  explicit LineFramer(size_t max_line);

  // Consumes `bytes`, calling `sink` for each line completed and each line found too long, in
  // stream order.
  void Feed(std::string_view bytes, const FramerSink& sink);

  // End of stream (end of file, port closed): emits a pending unterminated line, if any, and
  // resets the framer so that the next byte starts a new line.
  void Finish(const FramerSink& sink);

  // Drops any partial line without reporting it (e.g. the port was reopened).
  void Reset();

  // Bytes of the current partial line held in memory (never more than max_line).
  size_t buffered_size() const { return line_.size(); }
  size_t max_line() const { return max_line_; }

 private:
  void Append(std::string_view bytes, const FramerSink& sink);
  void AppendBounded(std::string_view bytes, const FramerSink& sink);
  void EndLine(const FramerSink& sink);

  size_t max_line_;
  std::string line_;
  bool pending_cr_ = false;  // a '\r' was read last; it is part of the line unless '\n' follows
  bool discarding_ = false;  // inside an over-long line, waiting for its '\n'
};

}  // namespace fieldsync::drivers
