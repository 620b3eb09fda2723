#include "drivers/frame_decoder.hpp"

#include <map>
#include <string>

#include "drivers/nmea_checksum.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldsync::drivers;
using fieldsync::core::FakeClock;
using fieldsync::core::MetricSpec;
using fieldsync::core::RejectReason;
using fieldsync::core::TimeUs;
using fieldsync::core::TsSource;

namespace {

constexpr TimeUs kNow = 1'750'000'000'000'000;  // 2025-06-15
constexpr TimeUs kMinute = 60'000'000;

FrameSpec JsonSpec(std::string device = "") {
  FrameSpec spec;
  spec.format = FrameFormat::kJson;
  spec.device = std::move(device);
  return spec;
}

FrameSpec KvSpec(std::string device = "gw-dev") {
  FrameSpec spec;
  spec.format = FrameFormat::kKv;
  spec.device = std::move(device);
  return spec;
}

}  // namespace

TEST_GROUP(FrameDecoder) {
  FakeClock clock{kNow};
  std::map<std::string, MetricSpec> metrics;

  RejectReason RejectedBy(FrameDecoder & decoder, const std::string& frame,
                          const TopicCapture& topic = {}) {
    DecodeResult r = decoder.Decode(frame, topic);
    if (r.frame) FAIL(("accepted: " + frame).c_str());
    CHECK(r.rejection.has_value());
    return r.rejection->reason;
  }
  DecodedFrame Accepted(FrameDecoder & decoder, const std::string& frame,
                        const TopicCapture& topic = {}) {
    DecodeResult r = decoder.Decode(frame, topic);
    if (!r.frame) FAIL(("rejected: " + frame + " -> " + r.rejection->detail).c_str());
    return *r.frame;
  }
};

TEST(FrameDecoder, DeviceTimestampFrameGivesDeviceReadings) {
  FrameDecoder decoder(JsonSpec(), metrics, clock, false);
  DecodedFrame f =
      Accepted(decoder, R"({"device":"uno-1","ts":1749999990,"seq":3,"t":21.5,"u":"C"})");
  STRCMP_EQUAL("uno-1", f.device.c_str());
  LONGS_EQUAL(1, f.readings.size());
  const auto& r = f.readings[0];
  STRCMP_EQUAL("uno-1", r.device.c_str());
  STRCMP_EQUAL("t", r.metric.c_str());
  DOUBLES_EQUAL(21.5, r.value, 0);
  LONGLONGS_EQUAL(1'749'999'990'000'000LL, r.ts);
  CHECK(r.ts_source == TsSource::kDevice);
  LONGS_EQUAL(3, *f.seq);
  LONGS_EQUAL(1, f.fields_ignored);
}

TEST(FrameDecoder, DeviceComesFromFrameThenTopicThenInput) {
  FrameDecoder decoder(JsonSpec("from-input"), metrics, clock, false);
  TopicCapture topic{std::string("from-topic"), std::nullopt};
  STRCMP_EQUAL("from-frame",
               Accepted(decoder, R"({"device":"from-frame","v":1})", topic).device.c_str());
  STRCMP_EQUAL("from-topic", Accepted(decoder, R"({"v":1})", topic).device.c_str());
  STRCMP_EQUAL("from-input", Accepted(decoder, R"({"v":1})").device.c_str());
}

TEST(FrameDecoder, MissingOrInvalidDeviceIsBadName) {
  FrameDecoder nameless(JsonSpec(""), metrics, clock, false);
  LONGS_EQUAL(RejectReason::kBadName, RejectedBy(nameless, R"({"v":1})"));
  LONGS_EQUAL(RejectReason::kBadName, RejectedBy(nameless, R"({"device":"a b","v":1})"));
  LONGS_EQUAL(RejectReason::kBadName,
              RejectedBy(nameless, R"({"v":1})", TopicCapture{std::string("x/y"), std::nullopt}));
  LONGS_EQUAL(RejectReason::kBadName,
              RejectedBy(nameless, R"({"device":")" + std::string(65, 'd') + R"(","v":1})"));
}

TEST(FrameDecoder, InvalidMetricNameIsBadName) {
  FrameDecoder decoder(JsonSpec("dev"), metrics, clock, false);
  LONGS_EQUAL(RejectReason::kBadName, RejectedBy(decoder, R"({"ok":1,"a:b":2})"));
  LONGS_EQUAL(RejectReason::kBadName, RejectedBy(decoder, R"({"temp C":2})"));
  LONGS_EQUAL(RejectReason::kBadName,
              RejectedBy(decoder, R"({")" + std::string(65, 'm') + R"(":1})"));
}

TEST(FrameDecoder, NonFiniteValueIsBadValueAndRejectsTheWholeFrame) {
  FrameDecoder decoder(KvSpec(), metrics, clock, false);
  LONGS_EQUAL(RejectReason::kBadValue, RejectedBy(decoder, "a=1,b=nan"));
  LONGS_EQUAL(RejectReason::kBadValue, RejectedBy(decoder, "a=inf"));
  LONGS_EQUAL(RejectReason::kBadValue, RejectedBy(decoder, "a=-1e400"));
  LONGS_EQUAL(RejectReason::kBadValue, RejectedBy(decoder, "a=1,b=high"));
}

TEST(FrameDecoder, TsBefore2000IsBadTs) {
  FrameDecoder decoder(JsonSpec("dev"), metrics, clock, false);
  LONGS_EQUAL(RejectReason::kBadTs, RejectedBy(decoder, R"({"ts":946684799,"v":1})"));
  LONGS_EQUAL(RejectReason::kBadTs, RejectedBy(decoder, R"({"ts":"1999-12-31T23:59:59Z","v":1})"));
  LONGS_EQUAL(RejectReason::kBadTs, RejectedBy(decoder, R"({"ts":-5,"v":1})"));
  Accepted(decoder, R"({"ts":946684800,"v":1})");
}

TEST(FrameDecoder, FutureTsIsBadTsOnlyWhileTheClockIsSynchronised) {
  FrameDecoder decoder(JsonSpec("dev"), metrics, clock, false);
  auto frame_at = [](TimeUs ts) { return R"({"v":1,"ts":)" + std::to_string(ts) + "}"; };
  Accepted(decoder, frame_at(kNow + 5 * kMinute));  // exactly 5 minutes ahead is fine
  LONGS_EQUAL(RejectReason::kBadTs, RejectedBy(decoder, frame_at(kNow + 5 * kMinute + 1)));
  clock.SetSynchronized(false);
  DecodedFrame f = Accepted(decoder, frame_at(kNow + 60 * kMinute));
  LONGLONGS_EQUAL(kNow + 60 * kMinute, f.readings[0].ts);
}

TEST(FrameDecoder, AgentStampsAreStrictlyIncreasingWhenTheClockStandsStill) {
  FrameDecoder decoder(KvSpec(), metrics, clock, false);
  TimeUs a = Accepted(decoder, "v=1").readings[0].ts;
  TimeUs b = Accepted(decoder, "v=2").readings[0].ts;
  TimeUs c = Accepted(decoder, "v=3,w=4").readings[1].ts;
  LONGLONGS_EQUAL(kNow, a);
  LONGLONGS_EQUAL(kNow + 1, b);
  LONGLONGS_EQUAL(kNow + 2, c);
  clock.Set(kNow - 1'000'000);  // the wall clock steps back
  LONGLONGS_EQUAL(kNow + 3, Accepted(decoder, "v=5").readings[0].ts);
  clock.Set(kNow + 1'000'000);
  LONGLONGS_EQUAL(kNow + 1'000'000, Accepted(decoder, "v=6").readings[0].ts);
}

TEST(FrameDecoder, AllReadingsOfAFrameShareItsStamp) {
  FrameDecoder decoder(KvSpec(), metrics, clock, false);
  DecodedFrame f = Accepted(decoder, "a=1 b=2 c=3");
  LONGLONGS_EQUAL(f.readings[0].ts, f.readings[2].ts);
}

TEST(FrameDecoder, RejectedFramesConsumeNoStamp) {
  FrameDecoder decoder(KvSpec(), metrics, clock, false);
  TimeUs a = Accepted(decoder, "v=1").readings[0].ts;
  RejectedBy(decoder, "v=oops");
  LONGLONGS_EQUAL(a + 1, Accepted(decoder, "v=2").readings[0].ts);
}

TEST(FrameDecoder, StampSourceFollowsClockSynchronisation) {
  FrameDecoder strict(KvSpec(), metrics, clock, /*trust_unsynced=*/false);
  FrameDecoder trusting(KvSpec(), metrics, clock, /*trust_unsynced=*/true);
  CHECK(Accepted(strict, "v=1").readings[0].ts_source == TsSource::kAgent);
  clock.SetSynchronized(false);
  CHECK(Accepted(strict, "v=1").readings[0].ts_source == TsSource::kAgentUnsynced);
  CHECK(Accepted(trusting, "v=1").readings[0].ts_source == TsSource::kAgent);
}

TEST(FrameDecoder, FrameWithoutReadingsIsNoReadings) {
  FrameDecoder decoder(JsonSpec("dev"), metrics, clock, false);
  LONGS_EQUAL(RejectReason::kNoReadings, RejectedBy(decoder, R"({"device":"uno","seq":1})"));
  LONGS_EQUAL(RejectReason::kNoReadings, RejectedBy(decoder, R"({"unit":"C","list":[1]})"));
  FrameDecoder kv(KvSpec(), metrics, clock, false);
  LONGS_EQUAL(RejectReason::kNoReadings, RejectedBy(kv, "device=uno"));
}

TEST(FrameDecoder, ScaleAndOffsetApplyToNamedMetricsOnly) {
  MetricSpec adc;
  adc.scale = 0.5;
  adc.offset = -10;
  metrics["adc"] = adc;
  FrameDecoder decoder(KvSpec(), metrics, clock, false);
  DecodedFrame f = Accepted(decoder, "adc=100 other=100");
  DOUBLES_EQUAL(40.0, f.readings[0].value, 1e-12);
  DOUBLES_EQUAL(100.0, f.readings[1].value, 0);

  MetricSpec huge;
  huge.scale = 1e300;
  metrics["big"] = huge;
  LONGS_EQUAL(RejectReason::kBadValue, RejectedBy(decoder, "big=1e300"));
}

TEST(FrameDecoder, CsvFramesUseTheInputFields) {
  FrameSpec spec;
  spec.format = FrameFormat::kCsv;
  spec.fields = {"t", "h"};
  spec.device = "uno";
  FrameDecoder decoder(spec, metrics, clock, false);
  DecodedFrame f = Accepted(decoder, "21.5,40");
  LONGS_EQUAL(2, f.readings.size());
  LONGS_EQUAL(RejectReason::kParse, RejectedBy(decoder, "21.5"));
  LONGS_EQUAL(RejectReason::kNoReadings, RejectedBy(decoder, ","));
}

TEST(FrameDecoder, NmeaChecksumIsCheckedFirstThenStripped) {
  FrameSpec spec = KvSpec();
  spec.checksum = Checksum::kNmea;
  FrameDecoder decoder(spec, metrics, clock, false);
  DecodedFrame f = Accepted(decoder, AppendNmeaChecksum("t=21.5,h=40"));
  LONGS_EQUAL(2, f.readings.size());
  DOUBLES_EQUAL(40, f.readings[1].value, 0);
  LONGS_EQUAL(RejectReason::kChecksum, RejectedBy(decoder, "t=21.5,h=40"));
  LONGS_EQUAL(RejectReason::kChecksum, RejectedBy(decoder, "t=21.5,h=41*00"));
  LONGS_EQUAL(RejectReason::kChecksum, RejectedBy(decoder, "garbage*00"));
  LONGS_EQUAL(RejectReason::kBadValue, RejectedBy(decoder, AppendNmeaChecksum("t=x")));
}

TEST(FrameDecoder, TopicMetricPayloadIsABareNumberOrValueObject) {
  FrameDecoder decoder(JsonSpec(), metrics, clock, false);
  TopicCapture topic{std::string("uno-3"), std::string("temp")};
  DecodedFrame bare = Accepted(decoder, " 22.5\n", topic);
  STRCMP_EQUAL("uno-3", bare.device.c_str());
  STRCMP_EQUAL("temp", bare.readings[0].metric.c_str());
  DOUBLES_EQUAL(22.5, bare.readings[0].value, 0);
  CHECK(bare.readings[0].ts_source == TsSource::kAgent);

  DecodedFrame obj = Accepted(decoder, R"({"value": 23, "ts": 1749999999, "unit": "C"})", topic);
  LONGS_EQUAL(1, obj.readings.size());
  DOUBLES_EQUAL(23, obj.readings[0].value, 0);
  LONGLONGS_EQUAL(1'749'999'999'000'000LL, obj.readings[0].ts);
  CHECK(obj.readings[0].ts_source == TsSource::kDevice);

  LONGS_EQUAL(RejectReason::kParse, RejectedBy(decoder, "warm", topic));
  LONGS_EQUAL(RejectReason::kParse, RejectedBy(decoder, "", topic));
  LONGS_EQUAL(RejectReason::kNoReadings, RejectedBy(decoder, R"({"v": 1})", topic));
  LONGS_EQUAL(RejectReason::kBadValue, RejectedBy(decoder, "nan", topic));
  LONGS_EQUAL(RejectReason::kBadName,
              RejectedBy(decoder, "1", TopicCapture{std::string("uno"), std::string("a:b")}));
}

TEST(FrameDecoder, RejectionTextIsCutTo200Bytes) {
  FrameDecoder decoder(KvSpec(), metrics, clock, false);
  std::string line = "value=" + std::string(500, 'x');
  DecodeResult r = decoder.Decode(line);
  CHECK(r.rejection.has_value());
  LONGS_EQUAL(RejectReason::kBadValue, r.rejection->reason);
  LONGS_EQUAL(200, r.rejection->excerpt.size());
  STRCMP_EQUAL(line.substr(0, 200).c_str(), r.rejection->excerpt.c_str());
  CHECK(r.rejection->detail.size() <= 200);

  std::string utf8 = "v=" + std::string(197, 'x') + "\xC3\xA9";  // 'é' straddles byte 200
  DecodeResult r2 = decoder.Decode(utf8);
  LONGS_EQUAL(199, r2.rejection->excerpt.size());
}

TEST(FrameDecoder, ARejectedFrameReportsItsSeqWhenItCanBeRead) {
  auto seq_of = [](FrameDecoder& d, const std::string& frame) {
    DecodeResult r = d.Decode(frame);
    CHECK_FALSE(r.accepted());
    return r.rejected_seq;
  };
  FrameDecoder json(JsonSpec("uno"), metrics, clock, false);
  // Refused after parsing: no readings, a bad name, a bad ts, a non-finite value.
  LONGS_EQUAL(4, seq_of(json, R"({"seq":4,"unit":"C"})").value_or(0));
  LONGS_EQUAL(5, seq_of(json, R"({"seq":5,"bad name":1})").value_or(0));
  LONGS_EQUAL(6, seq_of(json, R"({"seq":6,"ts":100,"t":1})").value_or(0));
  // Refused by the parser: a duplicate key, a seq given before or after the fault.
  LONGS_EQUAL(7, seq_of(json, R"({"t":1,"t":2,"seq":7})").value_or(0));
  LONGS_EQUAL(8, seq_of(json, R"({"seq":8,"dc":{"v":1,"v":2}})").value_or(0));
  // Unreadable: broken JSON, a seq that is not a uint32, two seq keys.
  CHECK_FALSE(seq_of(json, R"({"seq":9,"t":)").has_value());
  CHECK_FALSE(seq_of(json, R"({"seq":-1,"t":1,"t":2})").has_value());
  CHECK_FALSE(seq_of(json, R"({"seq":1,"seq":2,"t":1})").has_value());

  FrameDecoder kv(KvSpec(), metrics, clock, false);
  LONGS_EQUAL(11, seq_of(kv, "seq=11,t=abc").value_or(0));
  LONGS_EQUAL(12, seq_of(kv, "t=abc seq: 12").value_or(0));
  CHECK_FALSE(seq_of(kv, "seq=x,t=abc").has_value());
  CHECK_FALSE(seq_of(kv, "seq=1,seq=2,t=1").has_value());

  FrameSpec csv_spec;
  csv_spec.format = FrameFormat::kCsv;
  csv_spec.fields = {"seq", "t"};
  csv_spec.device = "uno";
  FrameDecoder csv(csv_spec, metrics, clock, false);
  LONGS_EQUAL(13, seq_of(csv, "13,abc").value_or(0));
  CHECK_FALSE(seq_of(csv, "13,1,2").has_value());  // wrong cell count: cells cannot be placed

  // A line whose checksum fails is damaged: its seq is not trusted.
  FrameSpec nmea = KvSpec();
  nmea.checksum = Checksum::kNmea;
  FrameDecoder checked(nmea, metrics, clock, false);
  CHECK_FALSE(seq_of(checked, "seq=3,t=1*00").has_value());
}

TEST(FrameDecoder, OnlyChecksumAndStoreFullAreCuredByAResend) {
  CHECK(ResendCanCure(RejectReason::kChecksum));
  CHECK(ResendCanCure(RejectReason::kStoreFull));
  CHECK_FALSE(ResendCanCure(RejectReason::kParse));
  CHECK_FALSE(ResendCanCure(RejectReason::kBadTs));
  CHECK_FALSE(ResendCanCure(RejectReason::kBadName));
  CHECK_FALSE(ResendCanCure(RejectReason::kBadValue));
  CHECK_FALSE(ResendCanCure(RejectReason::kNoReadings));
  CHECK_FALSE(ResendCanCure(RejectReason::kTooLong));
}
