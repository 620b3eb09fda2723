// Megabytes of hostile input through the framer and every parser: nothing crashes, the framer
// never holds more than max_line bytes, every bad line is counted as a rejection, and framing
// recovers for the next good line.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "drivers/frame_decoder.hpp"
#include "drivers/line_framer.hpp"
#include "drivers/nmea_checksum.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldsync::drivers;
using fieldsync::core::FakeClock;
using fieldsync::core::MetricSpec;

namespace {

constexpr size_t kMaxLine = 4096;
constexpr size_t kMiB = 1024 * 1024;

FrameSpec Spec(FrameFormat format, Checksum checksum = Checksum::kNone) {
  FrameSpec spec;
  spec.format = format;
  spec.fields = {"a", "b", "c"};
  spec.device = "dev";
  spec.checksum = checksum;
  spec.max_line = kMaxLine;
  return spec;
}

// One framer feeding four decoders (json, kv, csv, kv with nmea), counting outcomes.
struct Pipeline {
  FakeClock clock;
  std::map<std::string, MetricSpec> metrics;
  LineFramer framer{kMaxLine};
  std::vector<FrameDecoder> decoders;
  size_t lines = 0;
  size_t too_long = 0;
  size_t max_buffered = 0;
  std::vector<size_t> accepted;
  std::vector<size_t> rejected;
  std::string last_line;

  Pipeline() {
    decoders.emplace_back(Spec(FrameFormat::kJson), metrics, clock, false);
    decoders.emplace_back(Spec(FrameFormat::kKv), metrics, clock, false);
    decoders.emplace_back(Spec(FrameFormat::kCsv), metrics, clock, false);
    decoders.emplace_back(Spec(FrameFormat::kKv, Checksum::kNmea), metrics, clock, false);
    accepted.assign(decoders.size(), 0);
    rejected.assign(decoders.size(), 0);
  }

  void Feed(std::string_view bytes) {
    framer.Feed(bytes, [this](const FramerEvent& e) { OnEvent(e); });
    max_buffered = std::max(max_buffered, framer.buffered_size());
  }

  void OnEvent(const FramerEvent& e) {
    if (e.kind == FramerEvent::Kind::kTooLong) {
      CHECK(e.text.size() <= kMaxLine);
      ++too_long;
      return;
    }
    CHECK(e.text.size() <= kMaxLine);
    ++lines;
    last_line = std::string(e.text);
    for (size_t i = 0; i < decoders.size(); ++i) {
      DecodeResult r = decoders[i].Decode(e.text);
      CHECK(r.frame.has_value() != r.rejection.has_value());
      if (r.frame) {
        ++accepted[i];
      } else {
        CHECK(r.rejection->excerpt.size() <= 200);
        CHECK(r.rejection->detail.size() <= 200);
        ++rejected[i];
      }
    }
  }

  // Terminates whatever is pending, then sends one good frame per format; each must pass.
  void CheckGoodLinesPass() {
    Feed("\n");
    const char* good[] = {R"({"a":1,"b":2})", "a=1 b=2", "1,2,3", nullptr};
    std::string nmea = AppendNmeaChecksum("a=1 b=2");
    good[3] = nmea.c_str();
    for (size_t i = 0; i < decoders.size(); ++i) {
      size_t before = accepted[i];
      size_t lines_before = lines;
      Feed(std::string(good[i]) + "\r\n");
      LONGS_EQUAL(lines_before + 1, lines);
      STRCMP_EQUAL(good[i], last_line.c_str());
      LONGS_EQUAL(before + 1, accepted[i]);
    }
  }
};

std::string RandomBytes(std::mt19937_64& rng, size_t n, std::string_view alphabet) {
  std::string out(n, '\0');
  std::uniform_int_distribution<size_t> pick(0, alphabet.empty() ? 255 : alphabet.size() - 1);
  for (char& c : out) {
    size_t k = pick(rng);
    c = alphabet.empty() ? static_cast<char>(static_cast<unsigned char>(k)) : alphabet[k];
  }
  return out;
}

void FeedInRandomChunks(Pipeline& p, std::mt19937_64& rng, const std::string& data) {
  std::uniform_int_distribution<size_t> chunk(1, 9000);
  size_t pos = 0;
  while (pos < data.size()) {
    size_t n = std::min(chunk(rng), data.size() - pos);
    p.Feed(std::string_view(data).substr(pos, n));
    pos += n;
  }
}

}  // namespace

TEST_GROUP(Robustness){};

TEST(Robustness, RandomBytesAreRejectedAndFramingRecovers) {
  std::mt19937_64 rng(20240611);
  Pipeline p;
  // Uniform bytes (about one newline per 256 bytes), then text made of the formats' own
  // punctuation, which reaches deeper into the parsers.
  FeedInRandomChunks(p, rng, RandomBytes(rng, 4 * kMiB, ""));
  FeedInRandomChunks(p, rng, RandomBytes(rng, 2 * kMiB, "{}[]\":,=;  \t\r\nae.0123456789-+*xts"));
  CHECK(p.lines > 10000);
  CHECK(p.max_buffered <= kMaxLine);
  for (size_t i = 0; i < p.decoders.size(); ++i) {
    LONGS_EQUAL(p.lines, p.accepted[i] + p.rejected[i]);
  }
  LONGS_EQUAL(p.lines, p.rejected[0]);  // random text is never a valid JSON frame with readings
  LONGS_EQUAL(p.lines, p.rejected[3]);  // nor carries a right checksum over valid kv
  p.CheckGoodLinesPass();
}

TEST(Robustness, LongLinesWithoutNewlineStayBounded) {
  std::mt19937_64 rng(7);
  Pipeline p;
  for (int line = 0; line < 3; ++line) {
    std::string big = RandomBytes(rng, kMiB, "abcdefghij=:,{}\"0123456789");
    for (size_t pos = 0; pos < big.size(); pos += 65536) {
      p.Feed(std::string_view(big).substr(pos, 65536));
      CHECK(p.framer.buffered_size() <= kMaxLine);
    }
    LONGS_EQUAL(line + 1, p.too_long);
    LONGS_EQUAL(0, p.lines);
    p.Feed("\n");
  }
  p.CheckGoodLinesPass();
}

TEST(Robustness, ParsersSurviveMegabyteFramesHandedDirectly) {
  // MQTT and HTTP hand whole messages to the decoder without a framer.
  FakeClock clock;
  std::map<std::string, MetricSpec> metrics;
  std::mt19937_64 rng(99);
  std::vector<std::string> payloads = {
      RandomBytes(rng, kMiB, ""), std::string(kMiB, '{'),
      std::string(kMiB, '['),     "{\"a\":" + std::string(kMiB, '['),
      std::string(kMiB, '9'),     std::string(kMiB, ','),
      std::string(kMiB, '='),     "{\"a\":\"" + std::string(kMiB, 'x') + "\"}",
  };
  for (FrameFormat format : {FrameFormat::kJson, FrameFormat::kKv, FrameFormat::kCsv}) {
    FrameDecoder decoder(Spec(format), metrics, clock, false);
    for (const std::string& payload : payloads) {
      DecodeResult r = decoder.Decode(payload);
      CHECK(r.rejection.has_value());
      CHECK(r.rejection->excerpt.size() <= 200);
    }
    FrameDecoder by_topic(Spec(format), metrics, clock, false);
    for (const std::string& payload : payloads) {
      DecodeResult r = by_topic.Decode(payload, TopicCapture{std::string("d"), std::string("m")});
      CHECK(r.rejection.has_value());
    }
  }
}
