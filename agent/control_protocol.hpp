#pragma once
// The control socket's wire format (docs/control-socket.md): newline-delimited JSON over the
// Unix socket <state_dir>/control.sock. Every exchange opens with one request line, a JSON
// object with a "request" member:
//
//   {"request": "status"}
//   {"request": "ingest", "format": "json|kv|csv", "device": "D", "fields": ["a", "b"]}
//       followed by raw frame lines; the client shuts down its sending side (EOF) to end them
//   {"request": "run", "command": "sync|aggregate|backfill|cleanup", ...arguments}
//
// and is answered by exactly one response line, after which the server closes the connection:
//
//   {"ok": true, "result": {...}}
//   {"ok": false, "error": {"code": "busy", "message": "..."}}
//
// Pure: parsing and encoding only, no I/O; tested without sockets.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/expected.hpp"
#include "drivers/frame_spec.hpp"

namespace fieldsync::agent {

// The socket's file name inside state_dir.
inline constexpr const char* kControlSocketName = "control.sock";
// A request line longer than this is refused (frame lines are bounded by their own max_line).
inline constexpr std::size_t kMaxControlRequestBytes = 64 * 1024;
// The commands a `run` request may name; each is answered only if the agent registered it.
inline constexpr const char* kRunCommandNames[] = {"sync", "aggregate", "backfill", "cleanup"};

struct StatusRequest {};

struct IngestRequest {
  std::string format = "json";      // json | kv | csv
  std::string device;               // for frames that name none; "" = none
  std::vector<std::string> fields;  // csv columns; required with csv
};

struct RunRequestLine {
  std::string command;
  nlohmann::json args = nlohmann::json::object();  // every member of the request but the two keys
};

using ControlRequest = std::variant<StatusRequest, IngestRequest, RunRequestLine>;

// Parses one request line (without its '\n'). kParse for text that is not a JSON object,
// kInvalidArgument for an unknown request or a bad member; the message names what is wrong.
core::Expected<ControlRequest> ParseControlRequest(std::string_view line);

// The request line for `request`, '\n'-terminated.
std::string EncodeControlRequest(const ControlRequest& request);

// The frame spec an ingest request asks for (max_line: the default of a serial input).
drivers::FrameSpec FrameSpecOf(const IngestRequest& request);

// Response lines, '\n'-terminated.
std::string EncodeOkResponse(const nlohmann::json& result);
std::string EncodeErrorResponse(const core::Error& error);

// A decoded response: the result, or the server's error (its code kept when it is one of Errc's
// names, else kInternal). A line that is not a response is kParse.
core::Expected<nlohmann::json> ParseControlResponse(std::string_view line);

// Accumulates bytes from a stream and hands out complete '\n'-terminated lines, refusing any
// line longer than `max_bytes`. Used for request and response lines (not frames).
class ControlLineBuffer {
 public:
  explicit ControlLineBuffer(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Appends `bytes`; false when the pending line has grown past max_bytes (the peer misbehaves).
  bool Append(std::string_view bytes);
  // Removes the first complete line (without '\n') into `line`; false when none is complete.
  bool TakeLine(std::string& line);
  // What followed the taken lines (for an ingest request: the first frame bytes).
  std::string TakeRest();

 private:
  std::size_t max_bytes_;
  std::string buffer_;
};

}  // namespace fieldsync::agent
