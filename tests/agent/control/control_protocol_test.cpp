// The control socket's request and response lines, and the line buffer that reads them.
#include "agent/control_protocol.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using nlohmann::json;

namespace {

agent::ControlRequest Parsed(const std::string& line) {
  auto request = agent::ParseControlRequest(line);
  if (!request) FAIL(request.error().message.c_str());
  return *request;
}

core::Errc ParseError(const std::string& line) {
  auto request = agent::ParseControlRequest(line);
  CHECK_FALSE_TEXT(request.has_value(), line.c_str());
  return request ? core::Errc::kInternal : request.error().code;
}

}  // namespace

TEST_GROUP(ControlRequest){};

TEST(ControlRequest, StatusRoundTrips) {
  std::string line = agent::EncodeControlRequest(agent::StatusRequest{});
  CHECK(line.back() == '\n');
  CHECK(std::holds_alternative<agent::StatusRequest>(Parsed(line.substr(0, line.size() - 1))));
}

TEST(ControlRequest, IngestOptionsRoundTrip) {
  agent::IngestRequest ingest;
  ingest.format = "csv";
  ingest.device = "board7";
  ingest.fields = {"temperature", "humidity"};
  std::string line = agent::EncodeControlRequest(ingest);
  auto parsed = std::get<agent::IngestRequest>(Parsed(line.substr(0, line.size() - 1)));
  STRCMP_EQUAL("csv", parsed.format.c_str());
  STRCMP_EQUAL("board7", parsed.device.c_str());
  CHECK(parsed.fields == ingest.fields);

  drivers::FrameSpec spec = agent::FrameSpecOf(parsed);
  CHECK(spec.format == drivers::FrameFormat::kCsv);
  STRCMP_EQUAL("board7", spec.device.c_str());
  CHECK(spec.fields == ingest.fields);
}

TEST(ControlRequest, IngestDefaultsToJsonWithoutDevice) {
  auto parsed = std::get<agent::IngestRequest>(Parsed(R"({"request":"ingest"})"));
  STRCMP_EQUAL("json", parsed.format.c_str());
  CHECK(parsed.device.empty());
  CHECK(agent::FrameSpecOf(parsed).format == drivers::FrameFormat::kJson);
}

TEST(ControlRequest, RunKeepsItsArguments) {
  auto run = std::get<agent::RunRequestLine>(
      Parsed(R"({"request":"run","command":"backfill","days":3,"dry_run":true})"));
  STRCMP_EQUAL("backfill", run.command.c_str());
  LONGS_EQUAL(2, run.args.size());
  LONGS_EQUAL(3, run.args["days"].get<int>());
  CHECK(run.args["dry_run"].get<bool>());

  std::string line = agent::EncodeControlRequest(run);
  auto again = std::get<agent::RunRequestLine>(Parsed(line.substr(0, line.size() - 1)));
  CHECK(again.args == run.args);
}

TEST(ControlRequest, GarbageIsAParseError) {
  CHECK(ParseError("hello") == core::Errc::kParse);
  CHECK(ParseError("") == core::Errc::kParse);
  CHECK(ParseError("[1,2]") == core::Errc::kParse);
  CHECK(ParseError("{\"request\":") == core::Errc::kParse);
}

TEST(ControlRequest, BadRequestsNameWhatIsWrong) {
  CHECK(ParseError(R"({"x":1})") == core::Errc::kInvalidArgument);
  CHECK(ParseError(R"({"request":"reboot"})") == core::Errc::kInvalidArgument);
  CHECK(ParseError(R"({"request":"status","verbose":true})") == core::Errc::kInvalidArgument);
  CHECK(ParseError(R"({"request":"ingest","format":"xml"})") == core::Errc::kInvalidArgument);
  CHECK(ParseError(R"({"request":"ingest","format":"csv"})") == core::Errc::kInvalidArgument);
  CHECK(ParseError(R"({"request":"ingest","device":"bad name"})") == core::Errc::kInvalidArgument);
  CHECK(ParseError(R"({"request":"ingest","fields":[1]})") == core::Errc::kInvalidArgument);
  CHECK(ParseError(R"({"request":"run"})") == core::Errc::kInvalidArgument);
  auto unknown = agent::ParseControlRequest(R"({"request":"run","command":"format_disk"})");
  CHECK(!unknown);
  CHECK(unknown.error().message.find("format_disk") != std::string::npos);
}

TEST_GROUP(ControlResponse){};

TEST(ControlResponse, ResultRoundTrips) {
  json result = {{"accepted", 4}, {"rejected", {{"parse", 1}}}};
  std::string line = agent::EncodeOkResponse(result);
  CHECK(line.back() == '\n');
  auto parsed = agent::ParseControlResponse(line.substr(0, line.size() - 1));
  CHECK(parsed.has_value());
  CHECK(*parsed == result);
}

TEST(ControlResponse, ErrorKeepsCodeAndMessage) {
  std::string line =
      agent::EncodeErrorResponse(core::MakeError(core::Errc::kBusy, "another ingest is running"));
  auto parsed = agent::ParseControlResponse(line.substr(0, line.size() - 1));
  CHECK(!parsed);
  CHECK(parsed.error().code == core::Errc::kBusy);
  STRCMP_EQUAL("another ingest is running", parsed.error().message.c_str());
}

TEST(ControlResponse, SomethingElseIsAParseError) {
  CHECK(agent::ParseControlResponse("not json").error().code == core::Errc::kParse);
  CHECK(agent::ParseControlResponse(R"({"result":1})").error().code == core::Errc::kParse);
  auto odd = agent::ParseControlResponse(R"({"ok":false,"error":{"code":7}})");
  CHECK(!odd);
  CHECK(odd.error().code == core::Errc::kInternal);
  CHECK(!odd.error().message.empty());
}

TEST_GROUP(ControlLineBuffer){};

TEST(ControlLineBuffer, LinesSplitAcrossReadsAreJoined) {
  agent::ControlLineBuffer buffer(100);
  std::string line;
  CHECK(buffer.Append("{\"requ"));
  CHECK_FALSE(buffer.TakeLine(line));
  CHECK(buffer.Append("est\":\"ingest\"}\r\nframe one\nfra"));
  CHECK(buffer.TakeLine(line));
  STRCMP_EQUAL("{\"request\":\"ingest\"}", line.c_str());
  STRCMP_EQUAL("frame one\nfra", buffer.TakeRest().c_str());
  CHECK_FALSE(buffer.TakeLine(line));
}

TEST(ControlLineBuffer, ALineLongerThanTheLimitIsRefused) {
  agent::ControlLineBuffer buffer(10);
  CHECK(buffer.Append("0123456789"));
  CHECK_FALSE(buffer.Append("x"));
  agent::ControlLineBuffer complete(10);
  CHECK(complete.Append("0123456789\nanything after the line"));
}
