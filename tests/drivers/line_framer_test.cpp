#include "drivers/line_framer.hpp"

#include <string>
#include <vector>

#include <CppUTest/TestHarness.h>

using namespace fieldsync::drivers;

namespace {

// Records events as "L:<line>" and "T:<prefix>".
struct Recorder {
  std::vector<std::string> events;
  FramerSink sink() {
    return [this](const FramerEvent& e) {
      events.push_back((e.kind == FramerEvent::Kind::kLine ? "L:" : "T:") + std::string(e.text));
    };
  }
};

}  // namespace

TEST_GROUP(LineFramer){};

TEST(LineFramer, JoinsPartialReadsIntoLines) {
  LineFramer framer(64);
  Recorder rec;
  framer.Feed("temp=2", rec.sink());
  CHECK_EQUAL(0u, rec.events.size());
  LONGS_EQUAL(6, framer.buffered_size());
  framer.Feed("2.5\nhum", rec.sink());
  framer.Feed("=55\n", rec.sink());
  CHECK_EQUAL(2u, rec.events.size());
  STRCMP_EQUAL("L:temp=22.5", rec.events[0].c_str());
  STRCMP_EQUAL("L:hum=55", rec.events[1].c_str());
  LONGS_EQUAL(0, framer.buffered_size());
}

TEST(LineFramer, ByteByByteGivesTheSameLines) {
  LineFramer framer(64);
  Recorder rec;
  std::string stream = "a=1\r\nb=2\nc=3\r\n";
  for (char c : stream) framer.Feed(std::string_view(&c, 1), rec.sink());
  CHECK_EQUAL(3u, rec.events.size());
  STRCMP_EQUAL("L:a=1", rec.events[0].c_str());
  STRCMP_EQUAL("L:b=2", rec.events[1].c_str());
  STRCMP_EQUAL("L:c=3", rec.events[2].c_str());
}

TEST(LineFramer, StripsOneTrailingCarriageReturnOnly) {
  LineFramer framer(64);
  Recorder rec;
  framer.Feed("x\r", rec.sink());
  framer.Feed("\n", rec.sink());          // \r and \n in separate reads
  framer.Feed("a\rb\r\r\n", rec.sink());  // an inner \r stays, one trailing \r goes
  CHECK_EQUAL(2u, rec.events.size());
  STRCMP_EQUAL("L:x", rec.events[0].c_str());
  STRCMP_EQUAL("L:a\rb\r", rec.events[1].c_str());
}

TEST(LineFramer, SkipsBlankLines) {
  LineFramer framer(64);
  Recorder rec;
  framer.Feed("\n\r\n  \t\r\nv=1\n\n", rec.sink());
  CHECK_EQUAL(1u, rec.events.size());
  STRCMP_EQUAL("L:v=1", rec.events[0].c_str());
}

TEST(LineFramer, LineOfExactlyMaxLineIsKeptEvenWithCrLf) {
  LineFramer framer(8);
  Recorder rec;
  framer.Feed("12345678\r", rec.sink());
  LONGS_EQUAL(8, framer.buffered_size());
  framer.Feed("\n", rec.sink());
  CHECK_EQUAL(1u, rec.events.size());
  STRCMP_EQUAL("L:12345678", rec.events[0].c_str());
}

TEST(LineFramer, TooLongLineIsReportedOnceThenResyncsAtNewline) {
  LineFramer framer(8);
  Recorder rec;
  framer.Feed("123456", rec.sink());
  framer.Feed("789", rec.sink());  // overflows here: reported at once, before any newline
  CHECK_EQUAL(1u, rec.events.size());
  STRCMP_EQUAL("T:12345678", rec.events[0].c_str());
  LONGS_EQUAL(0, framer.buffered_size());
  framer.Feed("more bytes of the same long line", rec.sink());
  LONGS_EQUAL(0, framer.buffered_size());
  framer.Feed(" end\nok=1\n", rec.sink());
  CHECK_EQUAL(2u, rec.events.size());
  STRCMP_EQUAL("L:ok=1", rec.events[1].c_str());
}

TEST(LineFramer, CarriageReturnNotFollowedByNewlineCountsTowardTheLimit) {
  LineFramer framer(4);
  Recorder rec;
  framer.Feed("abcd\r", rec.sink());
  framer.Feed("e\nz\n", rec.sink());
  CHECK_EQUAL(2u, rec.events.size());
  STRCMP_EQUAL("T:abcd", rec.events[0].c_str());
  STRCMP_EQUAL("L:z", rec.events[1].c_str());
}

TEST(LineFramer, FinishEmitsUnterminatedLastLine) {
  LineFramer framer(16);
  Recorder rec;
  framer.Feed("a=1\nb=2\r", rec.sink());
  framer.Finish(rec.sink());
  CHECK_EQUAL(2u, rec.events.size());
  STRCMP_EQUAL("L:b=2", rec.events[1].c_str());
  LONGS_EQUAL(0, framer.buffered_size());
}

TEST(LineFramer, ResetDropsPartialLine) {
  LineFramer framer(16);
  Recorder rec;
  framer.Feed("half a li", rec.sink());
  framer.Reset();
  framer.Feed("ne\nv=1\n", rec.sink());
  CHECK_EQUAL(2u, rec.events.size());
  STRCMP_EQUAL("L:ne", rec.events[0].c_str());
}
