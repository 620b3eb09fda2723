#include "drivers/http_ingest.hpp"

#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

// CppUTest last: its leak detector redefines operator new.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;

namespace {
struct Decoder {
  core::FakeClock clock;
  std::map<std::string, core::MetricSpec> metrics;
  drivers::FrameDecoder decoder{drivers::FrameSpec{}, metrics, clock, false};
};
}  // namespace

TEST_GROUP(IngestBody){};

TEST(IngestBody, OneObjectIsOneFrame) {
  Decoder d;
  auto body = drivers::DecodeIngestBody(R"({"device": "d1", "t": 21.5, "h": 40})", d.decoder);
  CHECK_EQUAL(1u, body.frames.size());
  CHECK_EQUAL(2u, body.frames[0].readings.size());
  CHECK(body.rejected.empty());
}

TEST(IngestBody, ArrayFramesAreDecodedOneByOne) {
  Decoder d;
  auto body = drivers::DecodeIngestBody(
      R"([{"device": "d1", "t": 1}, {"device": "bad name", "t": 2}, 5, {"device": "d2", "t": 3}])",
      d.decoder);
  CHECK_EQUAL(2u, body.frames.size());
  CHECK_EQUAL(1, body.rejected[core::RejectReason::kBadName]);
  CHECK_EQUAL(1, body.rejected[core::RejectReason::kParse]);
  STRCMP_EQUAL("d2", body.frames[1].device.c_str());
}

TEST(IngestBody, FramesWithoutTsInOneArrayGetDistinctStamps) {
  Decoder d;  // the fake clock stands still: stamps must still differ
  std::string array = "[";
  for (int i = 0; i < 100; ++i) {
    array += std::string(i ? "," : "") + R"({"device": "d1", "t": )" + std::to_string(i) + "}";
  }
  array += "]";
  auto body = drivers::DecodeIngestBody(array, d.decoder);
  CHECK_EQUAL(100u, body.frames.size());
  std::set<core::TimeUs> stamps;
  for (const auto& f : body.frames) stamps.insert(f.readings.at(0).ts);
  CHECK_EQUAL(100u, stamps.size());
}

TEST(IngestBody, DuplicateKeysInsideAnArrayElementAreStillCaught) {
  Decoder d;
  auto body = drivers::DecodeIngestBody(R"([{"device": "d1", "t": 1, "t": 2}])", d.decoder);
  CHECK_EQUAL(0u, body.frames.size());
  CHECK_EQUAL(1, body.rejected[core::RejectReason::kParse]);
}

TEST(IngestBody, StringsWithBracketsAndCommasDoNotSplitElements) {
  Decoder d;
  auto body = drivers::DecodeIngestBody(
      R"([{"device": "d1", "note": "a,b}]{[", "t": 1}, {"device": "d1", "u": 2}])", d.decoder);
  CHECK_EQUAL(2u, body.frames.size());
  CHECK(body.rejected.empty());
}

TEST(IngestBody, NonJsonAndEmptyBodies) {
  Decoder d;
  auto garbage = drivers::DecodeIngestBody("temperature=5", d.decoder);
  CHECK_EQUAL(0u, garbage.frames.size());
  CHECK_EQUAL(1, garbage.rejected[core::RejectReason::kParse]);
  auto truncated = drivers::DecodeIngestBody(R"([{"device": "d1", "t": 1})", d.decoder);
  CHECK_EQUAL(0u, truncated.frames.size());
  CHECK_EQUAL(1, truncated.rejected[core::RejectReason::kParse]);
  auto empty = drivers::DecodeIngestBody("[ ]", d.decoder);
  CHECK_EQUAL(0u, empty.frames.size());
  CHECK(empty.rejected.empty());
}

TEST(IngestBody, CountsRenderAsTheDocumentedJson) {
  drivers::IngestCounts counts;
  counts.accepted = 3;
  counts.duplicates = 1;
  counts.rejected[core::RejectReason::kBadTs] = 2;
  auto doc = nlohmann::json::parse(drivers::RenderIngestCounts(counts));
  CHECK_EQUAL(3, doc["accepted"].get<int>());
  CHECK_EQUAL(1, doc["duplicates"].get<int>());
  CHECK_EQUAL(2, doc["rejected"]["bad_ts"].get<int>());
}
