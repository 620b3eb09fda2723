#include "agent/run_sync_request.hpp"

#include <initializer_list>
#include <sstream>

namespace fieldsync::agent {
namespace {

core::Error Usage(std::string message) {
  return core::MakeError(core::Errc::kInvalidArgument, std::move(message));
}

// An answer that does not have the expected shape: an agent of another version, or a bug.
core::Error BadAnswer(const std::string& what) {
  return core::MakeError(core::Errc::kInternal, "unexpected sync answer from the agent: " + what);
}

core::Status ReadInt(const nlohmann::json& json, const char* key, std::int64_t& out) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_number_integer()) {
    return BadAnswer(std::string("'") + key + "' is not an integer");
  }
  out = it->get<std::int64_t>();
  return core::Ok();
}

core::Status ReadInts(const nlohmann::json& json,
                      std::initializer_list<std::pair<const char*, std::int64_t*>> fields) {
  for (const auto& [key, out] : fields) {
    if (auto read = ReadInt(json, key, *out); !read) return read;
  }
  return core::Ok();
}

core::Expected<sync::UploadOutcome> ParseOutcome(const nlohmann::json& json) {
  auto it = json.find("outcome");
  if (it == json.end() || !it->is_string()) return BadAnswer("no 'outcome'");
  for (auto outcome :
       {sync::UploadOutcome::kOk, sync::UploadOutcome::kRetry, sync::UploadOutcome::kError}) {
    if (it->get<std::string>() == sync::ToString(outcome)) return outcome;
  }
  return BadAnswer("'outcome' " + it->dump());
}

}  // namespace

nlohmann::json ToJson(const SyncRequest& request) {
  return {{"once", request.once}, {"dry_run", request.dry_run}};
}

core::Expected<SyncRequest> SyncRequestFromJson(const nlohmann::json& args) {
  if (!args.is_object()) return Usage("the arguments must be a JSON object");
  SyncRequest request;
  for (const auto& [key, value] : args.items()) {
    bool* flag = key == "once" ? &request.once : key == "dry_run" ? &request.dry_run : nullptr;
    if (flag == nullptr) return Usage("unknown argument '" + key + "'");
    if (value.is_null()) continue;
    if (!value.is_boolean()) return Usage("'" + key + "' must be true or false");
    *flag = value.get<bool>();
  }
  return request;
}

nlohmann::json SyncPreviewToJson(const SyncPreview& preview) {
  return {{"dry_run", true},
          {"pending_buckets", preview.pending_buckets},
          {"pending_readings", preview.pending_readings},
          {"batch_size", preview.batch_size},
          {"batches", preview.batches()},
          {"schema", preview.schema},
          {"gateway", preview.gateway}};
}

core::Expected<SyncPreview> SyncPreviewFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return BadAnswer("not an object");
  SyncPreview preview;
  if (auto read = ReadInts(json, {{"pending_buckets", &preview.pending_buckets},
                                  {"pending_readings", &preview.pending_readings},
                                  {"batch_size", &preview.batch_size}});
      !read) {
    return read.error();
  }
  if (preview.batch_size < 1) return BadAnswer("'batch_size' below 1");
  auto schema = json.find("schema");
  auto gateway = json.find("gateway");
  if (schema == json.end() || !schema->is_string() || gateway == json.end() ||
      !gateway->is_string()) {
    return BadAnswer("no 'schema' or 'gateway'");
  }
  preview.schema = schema->get<std::string>();
  preview.gateway = gateway->get<std::string>();
  return preview;
}

std::string RenderSyncPreview(const SyncPreview& preview) {
  std::ostringstream text;
  text << "would upload " << preview.pending_buckets << " changed aggregate bucket(s), then "
       << preview.pending_readings << " pending reading(s) in " << preview.batches()
       << " batch(es) of up to " << preview.batch_size << " to schema " << preview.schema
       << " as gateway " << preview.gateway << "\n";
  return text.str();
}

void SyncTotals::Add(const sync::CycleReport& cycle) {
  ++cycles;
  inserted += cycle.inserted;
  skipped += cycle.skipped;
  quarantined += cycle.quarantined;
  hourly += cycle.hourly;
  daily += cycle.daily;
  more_pending = cycle.more_pending;
  outcome = cycle.outcome;
  message = cycle.outcome == sync::UploadOutcome::kOk ? std::string() : cycle.message;
}

nlohmann::json SyncTotalsToJson(const SyncTotals& totals) {
  return {{"dry_run", false},
          {"cycles", totals.cycles},
          {"inserted", totals.inserted},
          {"skipped", totals.skipped},
          {"quarantined", totals.quarantined},
          {"hourly", totals.hourly},
          {"daily", totals.daily},
          {"more_pending", totals.more_pending},
          {"outcome", sync::ToString(totals.outcome)},
          {"message", totals.message}};
}

core::Expected<SyncTotals> SyncTotalsFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return BadAnswer("not an object");
  SyncTotals totals;
  if (auto read = ReadInts(json, {{"cycles", &totals.cycles},
                                  {"inserted", &totals.inserted},
                                  {"skipped", &totals.skipped},
                                  {"quarantined", &totals.quarantined},
                                  {"hourly", &totals.hourly},
                                  {"daily", &totals.daily}});
      !read) {
    return read.error();
  }
  auto outcome = ParseOutcome(json);
  if (!outcome) return outcome.error();
  totals.outcome = *outcome;
  if (auto more = json.find("more_pending"); more != json.end() && more->is_boolean()) {
    totals.more_pending = more->get<bool>();
  }
  if (auto message = json.find("message"); message != json.end() && message->is_string()) {
    totals.message = message->get<std::string>();
  }
  if (!totals.ok() && totals.message.empty()) totals.message = "the sync failed";
  return totals;
}

std::string RenderSyncTotals(const SyncTotals& totals) {
  std::ostringstream text;
  text << "inserted " << totals.inserted << ", skipped " << totals.skipped << ", quarantined "
       << totals.quarantined << ", hourly buckets " << totals.hourly << ", daily buckets "
       << totals.daily << "\n";
  return text.str();
}

}  // namespace fieldsync::agent
