#include "agent/control_protocol.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

#include "core/names.hpp"

namespace fieldsync::agent {
namespace {

using nlohmann::json;

// Error codes on the wire: stable snake_case names, independent of Errc's numbering.
constexpr std::pair<core::Errc, const char*> kWireCodes[] = {
    {core::Errc::kInvalidArgument, "invalid_argument"},
    {core::Errc::kParse, "parse"},
    {core::Errc::kNotFound, "not_found"},
    {core::Errc::kConflict, "conflict"},
    {core::Errc::kBusy, "busy"},
    {core::Errc::kFull, "full"},
    {core::Errc::kIo, "io"},
    {core::Errc::kUnavailable, "unavailable"},
    {core::Errc::kTimeout, "timeout"},
    {core::Errc::kRemoteData, "remote_data"},
    {core::Errc::kRemoteOther, "remote_other"},
    {core::Errc::kUnsupported, "unsupported"},
    {core::Errc::kCorrupt, "corrupt"},
    {core::Errc::kInternal, "internal"},
};

const char* WireCode(core::Errc code) {
  for (const auto& [errc, name] : kWireCodes) {
    if (errc == code) return name;
  }
  return "internal";
}

core::Errc ErrcOf(const std::string& name) {
  for (const auto& [errc, wire] : kWireCodes) {
    if (name == wire) return errc;
  }
  return core::Errc::kInternal;
}

core::Error Invalid(std::string message) {
  return core::MakeError(core::Errc::kInvalidArgument, std::move(message));
}

core::Expected<IngestRequest> ParseIngest(const json& object) {
  IngestRequest request;
  for (const auto& [key, value] : object.items()) {
    if (key == "request") continue;
    if (key == "format") {
      if (!value.is_string()) return Invalid("ingest: \"format\" must be a string");
      request.format = value.get<std::string>();
      if (request.format != "json" && request.format != "kv" && request.format != "csv") {
        return Invalid("ingest: unknown format '" + request.format + "' (json, kv or csv)");
      }
    } else if (key == "device") {
      if (!value.is_string()) return Invalid("ingest: \"device\" must be a string");
      request.device = value.get<std::string>();
      if (!request.device.empty() && !core::IsValidDevice(request.device)) {
        return Invalid("ingest: not a valid device name: " + request.device);
      }
    } else if (key == "fields") {
      if (!value.is_array()) return Invalid("ingest: \"fields\" must be an array of strings");
      for (const json& field : value) {
        if (!field.is_string()) return Invalid("ingest: \"fields\" must be an array of strings");
        request.fields.push_back(field.get<std::string>());
      }
    } else {
      return Invalid("ingest: unknown member \"" + key + "\"");
    }
  }
  if (request.format == "csv" && request.fields.empty()) {
    return Invalid("ingest: format csv needs \"fields\" (the column names)");
  }
  return request;
}

core::Expected<RunRequestLine> ParseRun(const json& object) {
  auto command = object.find("command");
  if (command == object.end() || !command->is_string()) {
    return Invalid("run: \"command\" (a string) is required");
  }
  RunRequestLine request;
  request.command = command->get<std::string>();
  if (std::find_if(std::begin(kRunCommandNames), std::end(kRunCommandNames), [&](const char* name) {
        return request.command == name;
      }) == std::end(kRunCommandNames)) {
    return Invalid("run: unknown command '" + request.command +
                   "' (sync, aggregate, backfill or cleanup)");
  }
  for (const auto& [key, value] : object.items()) {
    if (key != "request" && key != "command") request.args[key] = value;
  }
  return request;
}

}  // namespace

core::Expected<ControlRequest> ParseControlRequest(std::string_view line) {
  json object = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return core::MakeError(core::Errc::kParse, "a request is one JSON object on one line");
  }
  auto kind = object.find("request");
  if (kind == object.end() || !kind->is_string()) {
    return Invalid("the request has no \"request\" member (status, ingest or run)");
  }
  const std::string name = kind->get<std::string>();
  if (name == "status") {
    if (object.size() != 1) return Invalid("status takes no arguments");
    return ControlRequest{StatusRequest{}};
  }
  if (name == "ingest") {
    auto ingest = ParseIngest(object);
    if (!ingest) return ingest.error();
    return ControlRequest{std::move(*ingest)};
  }
  if (name == "run") {
    auto run = ParseRun(object);
    if (!run) return run.error();
    return ControlRequest{std::move(*run)};
  }
  return Invalid("unknown request '" + name + "' (status, ingest or run)");
}

std::string EncodeControlRequest(const ControlRequest& request) {
  json object;
  if (std::holds_alternative<StatusRequest>(request)) {
    object = {{"request", "status"}};
  } else if (const auto* ingest = std::get_if<IngestRequest>(&request)) {
    object = {{"request", "ingest"}, {"format", ingest->format}};
    if (!ingest->device.empty()) object["device"] = ingest->device;
    if (!ingest->fields.empty()) object["fields"] = ingest->fields;
  } else {
    const auto& run = std::get<RunRequestLine>(request);
    object = run.args.is_object() ? run.args : json::object();
    object["request"] = "run";
    object["command"] = run.command;
  }
  return object.dump() + "\n";
}

drivers::FrameSpec FrameSpecOf(const IngestRequest& request) {
  drivers::FrameSpec spec;
  if (request.format == "kv") spec.format = drivers::FrameFormat::kKv;
  if (request.format == "csv") spec.format = drivers::FrameFormat::kCsv;
  spec.device = request.device;
  spec.fields = request.fields;
  return spec;
}

std::string EncodeOkResponse(const json& result) {
  return json{{"ok", true}, {"result", result}}.dump() + "\n";
}

std::string EncodeErrorResponse(const core::Error& error) {
  return json{{"ok", false},
              {"error", {{"code", WireCode(error.code)}, {"message", error.message}}}}
             .dump() +
         "\n";
}

core::Expected<json> ParseControlResponse(std::string_view line) {
  json object = json::parse(line, nullptr, /*allow_exceptions=*/false);
  auto ok = object.is_object() ? object.find("ok") : object.end();
  if (object.is_discarded() || !object.is_object() || ok == object.end() || !ok->is_boolean()) {
    return core::MakeError(core::Errc::kParse, "the agent's answer is not a control response");
  }
  if (ok->get<bool>()) {
    auto result = object.find("result");
    return result == object.end() ? json(nullptr) : *result;
  }
  auto text = [&object](const char* key) -> std::string {
    auto error = object.find("error");
    if (error == object.end() || !error->is_object()) return "";
    auto member = error->find(key);
    return member != error->end() && member->is_string() ? member->get<std::string>() : "";
  };
  std::string code = text("code");
  std::string message = text("message");
  return core::MakeError(ErrcOf(code), message.empty() ? "the agent refused the request" : message);
}

bool ControlLineBuffer::Append(std::string_view bytes) {
  buffer_.append(bytes);
  std::size_t newline = buffer_.find('\n');
  std::size_t pending = newline == std::string::npos ? buffer_.size() : newline;
  return pending <= max_bytes_;
}

bool ControlLineBuffer::TakeLine(std::string& line) {
  std::size_t newline = buffer_.find('\n');
  if (newline == std::string::npos) return false;
  line.assign(buffer_, 0, newline);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  buffer_.erase(0, newline + 1);
  return true;
}

std::string ControlLineBuffer::TakeRest() { return std::exchange(buffer_, std::string()); }

}  // namespace fieldsync::agent
