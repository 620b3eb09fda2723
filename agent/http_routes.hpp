#pragma once
// HttpRoutes: what each HTTP endpoint of §8 answers, independent of sockets. The server hands
// it a parsed request and a callback; the callback may run later (POST /api/data answers once the
// accepted frames are durable).
//
//   GET  /status    200, the §9 document from `status_json`
//   GET  /metrics   200, Prometheus text from `metrics`
//   POST /api/data  202 {"accepted","duplicates","rejected"} once durable (the frames of one body
//                   go to the store in one grouped commit, one per 4096 frames of a larger
//                   body); 400 (same body) when
//                   nothing was accepted; 503 (same body) when the store refused or failed on any
//                   frame (the client retries; frames already stored come back as duplicates)
//   POST /api/run   200 with the command's JSON result; 400 for an unknown command or bad body
//   POST endpoints: 403 while no key is configured, 401 for a missing or wrong X-API-Key
//   404 unknown path, 405 wrong method, 413 body over kMaxIngestBodyBytes.
// Responses never carry the key or any other secret.
//
// Thread-safety: Handle and every `respond` call happen on the agent's loop thread (the same
// thread that runs the FrameSink's callbacks).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "agent/prometheus.hpp"
#include "core/expected.hpp"
#include "drivers/frame_decoder.hpp"
#include "drivers/frame_sink.hpp"

namespace fieldsync::agent {

struct HttpRequest {
  std::string method;                  // "GET", "POST", ...
  std::string target;                  // path, possibly with a query string (ignored)
  std::optional<std::string> api_key;  // X-API-Key
  std::string body;
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using HttpRespond = std::function<void(HttpReply)>;

// POST /api/run {"command": ..., "days": N, "dry_run": bool}.
struct RunRequest {
  std::string command;  // sync | hourly | daily | full | cleanup | backfill
  std::optional<std::int64_t> days;
  bool dry_run = false;
};
// Runs the command (possibly later) and calls `done` on the loop thread with a JSON object
// describing the outcome, or an Error whose message is safe to show.
using RunDispatch =
    std::function<void(const RunRequest&, std::function<void(core::Expected<std::string>)> done)>;

struct HttpServices {
  std::string api_key;                       // "" = POST endpoints answer 403
  std::string input_name = "http";           // counts and status name the HTTP input this
  drivers::FrameSink* sink = nullptr;        // required for /api/data
  drivers::FrameDecoder* decoder = nullptr;  // required for /api/data (json format)
  std::function<std::string()> status_json;  // GET /status
  std::function<MetricsSnapshot()> metrics;  // GET /metrics
  RunDispatch run;                           // POST /api/run; unset: 503
};

class HttpRoutes {
 public:
  // The pointed-to sink and decoder must outlive the routes.
  explicit HttpRoutes(HttpServices services);

  void Handle(HttpRequest request, HttpRespond respond);

 private:
  void Ingest(const HttpRequest& request, HttpRespond respond);
  void Run(const HttpRequest& request, HttpRespond respond);
  std::optional<HttpReply> CheckKey(const HttpRequest& request) const;

  HttpServices services_;
};

// Parses the /api/run body; kInvalidArgument with a message fit for the 400 answer.
core::Expected<RunRequest> ParseRunRequest(const std::string& body);

// {"error": message}
std::string ErrorBody(const std::string& message);

}  // namespace fieldsync::agent
