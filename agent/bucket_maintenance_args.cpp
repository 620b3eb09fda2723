// The JSON arguments of the maintenance commands' run requests (bucket_maintenance.hpp).
#include "agent/bucket_maintenance.hpp"

namespace fieldsync::agent {
namespace {

core::Error Usage(std::string message) {
  return core::MakeError(core::Errc::kInvalidArgument, std::move(message));
}

// Members of a run request's arguments, type-checked.
core::Status CheckMembers(const nlohmann::json& args, std::initializer_list<const char*> known) {
  if (!args.is_object()) return Usage("the arguments must be a JSON object");
  for (const auto& [key, value] : args.items()) {
    bool found = false;
    for (const char* name : known) found = found || key == name;
    if (!found) return Usage("unknown argument '" + key + "'");
  }
  return core::Ok();
}

core::Status ReadInt(const nlohmann::json& args, const char* key,
                     std::optional<std::int64_t>& out) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return core::Ok();
  if (!it->is_number_integer()) return Usage(std::string("'") + key + "' must be an integer");
  out = it->get<std::int64_t>();
  return core::Ok();
}

core::Status ReadString(const nlohmann::json& args, const char* key,
                        std::optional<std::string>& out) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return core::Ok();
  if (!it->is_string()) return Usage(std::string("'") + key + "' must be a string");
  out = it->get<std::string>();
  return core::Ok();
}

core::Status ReadBool(const nlohmann::json& args, const char* key, bool& out) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return core::Ok();
  if (!it->is_boolean()) return Usage(std::string("'") + key + "' must be true or false");
  out = it->get<bool>();
  return core::Ok();
}

template <class T>
void PutIfSet(nlohmann::json& json, const char* key, const std::optional<T>& value) {
  if (value) json[key] = *value;
}

}  // namespace

nlohmann::json ToJson(const AggregateRequest& request) {
  nlohmann::json json = {{"scope", ToString(request.scope)}, {"dry_run", request.dry_run}};
  PutIfSet(json, "hours", request.hours);
  PutIfSet(json, "days", request.days);
  return json;
}

nlohmann::json ToJson(const BackfillRequest& request) {
  nlohmann::json json = {{"dry_run", request.dry_run}};
  PutIfSet(json, "days", request.days);
  PutIfSet(json, "from", request.from);
  PutIfSet(json, "to", request.to);
  return json;
}

nlohmann::json ToJson(const CleanupRequest& request) {
  nlohmann::json json = {{"dry_run", request.dry_run}};
  PutIfSet(json, "retention_days", request.retention_days);
  return json;
}

core::Expected<AggregateRequest> AggregateRequestFromJson(const nlohmann::json& args) {
  if (auto s = CheckMembers(args, {"scope", "hours", "days", "dry_run"}); !s) return s.error();
  AggregateRequest request;
  std::optional<std::string> scope;
  if (auto s = ReadString(args, "scope", scope); !s) return s.error();
  if (!scope) return Usage("'scope' is required: hourly, daily or full");
  if (*scope == "hourly") {
    request.scope = AggregateScope::kHourly;
  } else if (*scope == "daily") {
    request.scope = AggregateScope::kDaily;
  } else if (*scope == "full") {
    request.scope = AggregateScope::kFull;
  } else {
    return Usage("'scope' must be hourly, daily or full, got '" + *scope + "'");
  }
  if (auto s = ReadInt(args, "hours", request.hours); !s) return s.error();
  if (auto s = ReadInt(args, "days", request.days); !s) return s.error();
  if (auto s = ReadBool(args, "dry_run", request.dry_run); !s) return s.error();
  return request;
}

core::Expected<BackfillRequest> BackfillRequestFromJson(const nlohmann::json& args) {
  if (auto s = CheckMembers(args, {"days", "from", "to", "dry_run"}); !s) return s.error();
  BackfillRequest request;
  if (auto s = ReadInt(args, "days", request.days); !s) return s.error();
  if (auto s = ReadString(args, "from", request.from); !s) return s.error();
  if (auto s = ReadString(args, "to", request.to); !s) return s.error();
  if (auto s = ReadBool(args, "dry_run", request.dry_run); !s) return s.error();
  return request;
}

core::Expected<CleanupRequest> CleanupRequestFromJson(const nlohmann::json& args) {
  if (auto s = CheckMembers(args, {"retention_days", "dry_run"}); !s) return s.error();
  CleanupRequest request;
  if (auto s = ReadInt(args, "retention_days", request.retention_days); !s) return s.error();
  if (auto s = ReadBool(args, "dry_run", request.dry_run); !s) return s.error();
  return request;
}

}  // namespace fieldsync::agent
