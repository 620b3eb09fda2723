#include "agent/status_document.hpp"

#include <set>
#include <sstream>

namespace fieldsync::agent {
namespace {

using nlohmann::json;

json TimeOrNull(const std::optional<core::TimeUs>& ts) {
  return ts ? json(core::FormatRfc3339(*ts)) : json(nullptr);
}

json InputEntry(const std::string& name, const std::string& kind, const StatusFacts& facts) {
  store::InputCounters counters;
  if (auto it = facts.stats.inputs.find(name); it != facts.stats.inputs.end()) {
    counters = it->second;
  }
  json rejected = json::object();
  for (const auto& [reason, n] : counters.rejected) rejected[reason] = n;
  auto connected = facts.connected.find(name);
  return json{
      {"name", name},
      {"kind", kind},
      {"connected", connected != facts.connected.end() ? json(connected->second) : json(nullptr)},
      {"frames", counters.frames},
      {"readings", counters.readings},
      {"duplicates", counters.duplicates},
      {"rejected", rejected},
      {"frames_lost", counters.frames_lost},
      {"fields_ignored", counters.fields_ignored},
      {"last_frame_at", TimeOrNull(counters.last_frame_at)},
  };
}

}  // namespace

json BuildStatusDocument(const Config& config, const StatusFacts& facts) {
  const store::StoreStats& s = facts.stats;
  json inputs = json::array();
  std::set<std::string> listed;
  auto add = [&](const std::string& name, const std::string& kind) {
    if (!listed.insert(name).second) return;
    inputs.push_back(InputEntry(name, kind, facts));
  };
  for (const auto& serial : config.serial) add(serial.name, "serial");
  for (const auto& mqtt : config.mqtt) add(mqtt.name, "mqtt");
  if (!config.http.listen.empty() || s.inputs.count("http")) add("http", "http");
  for (const auto& [name, counters] : s.inputs) {
    // "ingest" is the command; other names are inputs that were removed from the config.
    add(name, name == "ingest" ? "ingest" : "unknown");
  }

  json last_sync = {{"at", nullptr},
                    {"ok", nullptr},
                    {"error", nullptr},
                    {"inserted", nullptr},
                    {"skipped", nullptr}};
  if (facts.last_sync) {
    const LastSync& l = *facts.last_sync;
    last_sync = {{"at", TimeOrNull(l.at)},
                 {"ok", l.ok},
                 {"error", l.error.empty() ? json(nullptr) : json(l.error)},
                 {"inserted", l.inserted},
                 {"skipped", l.skipped}};
  }

  return json{
      {"gateway", config.gateway},
      {"instance_id", facts.instance_id ? json(*facts.instance_id) : json(nullptr)},
      {"version", facts.version},
      {"uptime_s", facts.uptime_s ? json(*facts.uptime_s) : json(nullptr)},
      {"clock_synced", facts.clock_synced},
      {"pending",
       {{"readings", s.pending_readings},
        {"oldest_ts", TimeOrNull(s.oldest_pending_ts)},
        // An addition to §9: readings stamped unsynchronised, waiting for the clock (§10).
        {"held", s.held_readings},
        {"aggregates",
         facts.pending_aggregates ? json(*facts.pending_aggregates) : json(nullptr)}}},
      {"store", {{"bytes", s.bytes}, {"max_bytes", s.max_bytes}}},
      {"dropped", s.dropped},
      {"duplicates", s.duplicates},
      {"late", s.late},
      {"quarantined", s.quarantined},
      {"clock_unsynced", s.clock_unsynced},
      {"inputs", inputs},
      {"last_sync", last_sync},
      {"watermarks",
       {{"hourly", TimeOrNull(facts.hourly_watermark)},
        {"daily", facts.daily_watermark ? json(core::FormatIsoDate(*facts.daily_watermark))
                                        : json(nullptr)}}},
  };
}

std::string RenderStatusText(const json& status) {
  auto text = [](const json& v) -> std::string {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
  };
  std::ostringstream out;
  out << "gateway       " << text(status["gateway"]) << " (instance " << text(status["instance_id"])
      << ", fieldsync " << text(status["version"]) << ")\n";
  out << "agent         "
      << (status["uptime_s"].is_null() ? std::string("not running")
                                       : "up " + text(status["uptime_s"]) + " s")
      << ", clock " << (status["clock_synced"].get<bool>() ? "synchronised" : "NOT synchronised")
      << "\n";
  const json& pending = status["pending"];
  out << "pending       " << text(pending["readings"]) << " readings (oldest "
      << text(pending["oldest_ts"]) << "), " << text(pending["aggregates"]) << " buckets, "
      << text(pending["held"]) << " held for the clock\n";
  out << "store         " << text(status["store"]["bytes"]) << " of "
      << text(status["store"]["max_bytes"]) << " bytes\n";
  out << "counted       " << text(status["duplicates"]) << " duplicates, "
      << text(status["dropped"]) << " dropped, " << text(status["late"]) << " late, "
      << text(status["quarantined"]) << " quarantined, " << text(status["clock_unsynced"])
      << " clock_unsynced\n";
  for (const json& input : status["inputs"]) {
    out << "input         " << text(input["name"]) << " (" << text(input["kind"])
        << "): " << text(input["frames"]) << " frames, " << text(input["readings"]) << " readings, "
        << text(input["frames_lost"]) << " lost";
    for (const auto& [reason, n] : input["rejected"].items()) {
      out << ", " << reason << " " << text(n);
    }
    out << ", last " << text(input["last_frame_at"]) << "\n";
  }
  const json& sync = status["last_sync"];
  out << "last sync     "
      << (sync["at"].is_null()
              ? std::string("never")
              : text(sync["at"]) +
                    (sync["ok"].get<bool>() ? " ok" : " FAILED: " + text(sync["error"])))
      << "\n";
  out << "watermarks    hourly " << text(status["watermarks"]["hourly"]) << ", daily "
      << text(status["watermarks"]["daily"]) << "\n";
  return out.str();
}

}  // namespace fieldsync::agent
