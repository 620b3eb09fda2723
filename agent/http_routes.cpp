#include "agent/http_routes.hpp"

#include <array>
#include <memory>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "agent/api_key.hpp"
#include "drivers/http_ingest.hpp"

namespace fieldsync::agent {
namespace {

using nlohmann::json;

// Frames of one POST body committed together at most (see Ingest).
constexpr std::size_t kFramesPerIngestCommit = 4096;

constexpr std::array<std::string_view, 6> kRunCommands = {"sync", "hourly",  "daily",
                                                          "full", "cleanup", "backfill"};

HttpReply Reply(unsigned status, std::string body) {
  return HttpReply{status, "application/json", std::move(body)};
}

std::string_view PathOf(const std::string& target) {
  std::string_view path(target);
  const std::size_t q = path.find('?');
  return q == std::string_view::npos ? path : path.substr(0, q);
}

// Collects the outcome of every frame of one POST and answers once the last commit returned.
struct IngestReplyState {
  drivers::IngestCounts counts;
  std::size_t outstanding = 0;
  bool refused = false;
  bool failed = false;
  HttpRespond respond;

  void Finish() {
    unsigned status = 202;
    if (refused || failed) {
      status = 503;
    } else if (counts.accepted == 0 && counts.duplicates == 0) {
      status = 400;
    }
    json body = json::parse(drivers::RenderIngestCounts(counts));
    if (refused) body["error"] = "store full: new data is refused";
    if (failed) body["error"] = "store write failed";
    respond(Reply(status, body.dump()));
  }
};

}  // namespace

std::string ErrorBody(const std::string& message) { return json{{"error", message}}.dump(); }

core::Expected<RunRequest> ParseRunRequest(const std::string& body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return core::MakeError(core::Errc::kInvalidArgument, "body must be a JSON object");
  }
  RunRequest request;
  auto command = doc.find("command");
  if (command == doc.end() || !command->is_string()) {
    return core::MakeError(core::Errc::kInvalidArgument, "\"command\" (a string) is required");
  }
  request.command = command->get<std::string>();
  bool known = false;
  for (std::string_view c : kRunCommands) known = known || c == request.command;
  if (!known) {
    return core::MakeError(core::Errc::kInvalidArgument,
                           "unknown command; expected sync, hourly, daily, full, cleanup or "
                           "backfill");
  }
  if (auto days = doc.find("days"); days != doc.end() && !days->is_null()) {
    if (!days->is_number_integer() || days->get<std::int64_t>() < 0) {
      return core::MakeError(core::Errc::kInvalidArgument,
                             "\"days\" must be a non-negative integer");
    }
    request.days = days->get<std::int64_t>();
  }
  if (auto dry = doc.find("dry_run"); dry != doc.end() && !dry->is_null()) {
    if (!dry->is_boolean()) {
      return core::MakeError(core::Errc::kInvalidArgument, "\"dry_run\" must be true or false");
    }
    request.dry_run = dry->get<bool>();
  }
  for (const auto& item : doc.items()) {
    if (item.key() != "command" && item.key() != "days" && item.key() != "dry_run") {
      return core::MakeError(core::Errc::kInvalidArgument, "unknown member \"" + item.key() + "\"");
    }
  }
  return request;
}

HttpRoutes::HttpRoutes(HttpServices services) : services_(std::move(services)) {}

std::optional<HttpReply> HttpRoutes::CheckKey(const HttpRequest& request) const {
  std::optional<std::string_view> presented;
  if (request.api_key) presented = *request.api_key;
  switch (CheckApiKey(services_.api_key, presented)) {
    case KeyCheck::kOk:
      return std::nullopt;
    case KeyCheck::kNotConfigured:
      return Reply(403, ErrorBody("no API key is configured; POST endpoints are disabled"));
    case KeyCheck::kMissing:
      return Reply(401, ErrorBody("missing X-API-Key"));
    case KeyCheck::kWrong:
      break;
  }
  return Reply(401, ErrorBody("wrong X-API-Key"));
}

void HttpRoutes::Handle(HttpRequest request, HttpRespond respond) {
  const std::string_view path = PathOf(request.target);
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  if (path == "/status" || path == "/metrics") {
    if (!get) return respond(Reply(405, ErrorBody("use GET")));
    if (path == "/status") {
      if (!services_.status_json) return respond(Reply(503, ErrorBody("status unavailable")));
      return respond(Reply(200, services_.status_json()));
    }
    MetricsSnapshot snapshot = services_.metrics ? services_.metrics() : MetricsSnapshot{};
    return respond(HttpReply{200, kPrometheusContentType, RenderPrometheus(snapshot)});
  }
  if (path == "/api/data" || path == "/api/run") {
    if (!post) return respond(Reply(405, ErrorBody("use POST")));
    if (auto refused = CheckKey(request)) return respond(std::move(*refused));
    if (request.body.size() > drivers::kMaxIngestBodyBytes) {
      return respond(Reply(413, ErrorBody("body over 1 MiB")));
    }
    if (path == "/api/data") return Ingest(request, std::move(respond));
    return Run(request, std::move(respond));
  }
  respond(Reply(404, ErrorBody("no such endpoint")));
}

void HttpRoutes::Ingest(const HttpRequest& request, HttpRespond respond) {
  if (services_.sink == nullptr || services_.decoder == nullptr) {
    return respond(Reply(503, ErrorBody("ingest unavailable")));
  }
  drivers::IngestBody body = drivers::DecodeIngestBody(request.body, *services_.decoder);
  for (const drivers::FrameRejection& rejection : body.rejections) {
    services_.sink->Reject(services_.input_name, rejection);
  }
  auto state = std::make_shared<IngestReplyState>();
  state->counts.rejected = body.rejected;
  state->respond = std::move(respond);
  if (body.frames.empty()) return state->Finish();
  state->outstanding = body.frames.size();
  // One request, one commit: every frame but the last is only queued, and the last asks for the
  // commit, which takes the whole queue of this input in one transaction. Nothing runs on the loop
  // in between (this is one handler), so no timer can split the group. A body of more than
  // kFramesPerIngestCommit frames (a 1 MiB body holds up to ~100,000 tiny ones) commits every
  // that many, so that it never meets the grouped commit's queue bound.
  const std::size_t last = body.frames.size() - 1;
  for (std::size_t i = 0; i < body.frames.size(); ++i) {
    const bool commit_now = i == last || (i + 1) % kFramesPerIngestCommit == 0;
    drivers::DecodedFrame& frame = body.frames[i];
    services_.sink->Submit(
        services_.input_name, std::move(frame),
        [state](const drivers::SubmitResult& result) {
          switch (result.status) {
            case drivers::SubmitStatus::kDurable:
              state->counts.accepted += result.accepted;
              state->counts.duplicates += result.duplicates;
              break;
            case drivers::SubmitStatus::kRefusedFull:
              state->refused = true;
              ++state->counts.rejected[core::RejectReason::kStoreFull];
              break;
            case drivers::SubmitStatus::kFailed:
              state->failed = true;
              break;
          }
          if (--state->outstanding == 0) state->Finish();
        },
        /*durable_now=*/commit_now);
  }
}

void HttpRoutes::Run(const HttpRequest& request, HttpRespond respond) {
  core::Expected<RunRequest> parsed = ParseRunRequest(request.body);
  if (!parsed) return respond(Reply(400, ErrorBody(parsed.error().message)));
  if (!services_.run) return respond(Reply(503, ErrorBody("commands unavailable")));
  services_.run(*parsed, [respond = std::move(respond)](core::Expected<std::string> outcome) {
    if (outcome) return respond(Reply(200, std::move(*outcome)));
    // kUnsupported: no part of this agent offers the command (e.g. sync without [sync] url).
    const unsigned status = outcome.error().code == core::Errc::kInvalidArgument ? 400u
                            : outcome.error().code == core::Errc::kBusy          ? 409u
                            : outcome.error().code == core::Errc::kUnsupported   ? 503u
                                                                                 : 500u;
    respond(Reply(status, ErrorBody(outcome.error().message)));
  });
}

}  // namespace fieldsync::agent
