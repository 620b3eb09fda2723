// Fuzz target: LineFramer, the byte stream to lines cutter of every line input.
//
// Input layout (see docs/fuzzing.md):
//   byte 0     max_line - 1 (so max_line is 1..256: small limits reach the too-long paths)
//   byte 1..4  seed of the chunk sizes (a serial read returns any number of bytes)
//   rest       the stream
//
// The stream is fed three ways: in one chunk, one byte at a time, and in chunks of sizes drawn
// from the seed. Checked:
//  - each way yields exactly the events of a reference model written from the contract
//    (split at '\n', strip one trailing '\r', longer than max_line -> too long with its first
//    max_line bytes, else skip blank lines), so framing never depends on how reads are cut;
//  - every line and too-long excerpt is at most max_line bytes and holds no '\n';
//  - buffered_size() <= max_line after every Feed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/line_framer.hpp"
#include "fuzz_check.hpp"

namespace {

namespace drivers = fieldsync::drivers;
using fieldsync::fuzz::Printable;

struct Event {
  drivers::FramerEvent::Kind kind;
  std::string text;

  bool operator==(const Event&) const = default;
};

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

std::vector<Event> Reference(std::string_view stream, size_t max_line) {
  std::vector<Event> out;
  auto line = [&](std::string_view text) {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() > max_line) {
      out.push_back({drivers::FramerEvent::Kind::kTooLong, std::string(text.substr(0, max_line))});
    } else if (!IsBlank(text)) {
      out.push_back({drivers::FramerEvent::Kind::kLine, std::string(text)});
    }
  };
  while (true) {
    size_t nl = stream.find('\n');
    if (nl == std::string_view::npos) break;
    line(stream.substr(0, nl));
    stream.remove_prefix(nl + 1);
  }
  if (!stream.empty()) line(stream);  // Finish: the unterminated last line
  return out;
}

// A small deterministic generator for chunk sizes (xorshift32).
struct ChunkSizes {
  std::uint32_t state;
  size_t Next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    // Mostly small reads, sometimes a large one.
    return (state & 7u) == 0 ? 1 + (state >> 8) % 4096 : 1 + (state >> 8) % 17;
  }
};

template <class NextChunk>
std::vector<Event> Frame(std::string_view stream, size_t max_line, NextChunk next_chunk) {
  drivers::LineFramer framer(max_line);
  std::vector<Event> events;
  auto sink = [&](const drivers::FramerEvent& e) {
    FUZZ_CHECK(e.text.size() <= max_line, "event of " + std::to_string(e.text.size()) +
                                              " bytes, max_line " + std::to_string(max_line));
    FUZZ_CHECK(e.text.find('\n') == std::string_view::npos, Printable(e.text));
    events.push_back({e.kind, std::string(e.text)});
  };
  while (!stream.empty()) {
    size_t n = std::min(next_chunk(), stream.size());
    framer.Feed(stream.substr(0, n), sink);
    FUZZ_CHECK(framer.buffered_size() <= max_line,
               "buffered " + std::to_string(framer.buffered_size()));
    stream.remove_prefix(n);
  }
  framer.Finish(sink);
  FUZZ_CHECK(framer.buffered_size() == 0, "Finish left bytes buffered");
  return events;
}

std::string Describe(const std::vector<Event>& events) {
  std::string out;
  for (const auto& e : events) {
    out += e.kind == drivers::FramerEvent::Kind::kLine ? "\n  line " : "\n  too_long ";
    out += Printable(e.text, 80);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  if (size < 5) return -1;
  const size_t max_line = static_cast<size_t>(data[0]) + 1;
  std::uint32_t seed = (static_cast<std::uint32_t>(data[1]) << 24) |
                       (static_cast<std::uint32_t>(data[2]) << 16) |
                       (static_cast<std::uint32_t>(data[3]) << 8) | data[4];
  std::string_view stream(reinterpret_cast<const char*>(data) + 5, size - 5);

  const std::vector<Event> expected = Reference(stream, max_line);
  const std::vector<Event> whole = Frame(stream, max_line, [&] { return stream.size(); });
  FUZZ_CHECK(whole == expected,
             "one chunk:" + Describe(whole) + "\nexpected:" + Describe(expected));
  const std::vector<Event> bytewise = Frame(stream, max_line, [] { return size_t{1}; });
  FUZZ_CHECK(bytewise == expected,
             "byte by byte:" + Describe(bytewise) + "\nexpected:" + Describe(expected));
  ChunkSizes sizes{seed == 0 ? 1u : seed};
  const std::vector<Event> chunked = Frame(stream, max_line, [&] { return sizes.Next(); });
  FUZZ_CHECK(chunked == expected,
             "chunked:" + Describe(chunked) + "\nexpected:" + Describe(expected));
  return 0;
}
