#include "agent/prometheus.hpp"

#include <cmath>
#include <cstdio>
#include <string_view>

namespace fieldsync::agent {
namespace {

std::string EscapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

std::string FormatDouble(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

void Sample(std::string& out, const char* name, const std::string& labels,
            const std::string& value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void Scalar(std::string& out, const char* name, const char* type, const char* help,
            const std::string& value) {
  Header(out, name, type, help);
  Sample(out, name, "", value);
}

std::string InputLabel(const std::string& input) { return "input=\"" + EscapeLabel(input) + "\""; }

}  // namespace

std::string RenderPrometheus(const MetricsSnapshot& s) {
  std::string out;
  Header(out, "fieldsync_readings_ingested_total", "counter", "Readings stored, per input.");
  for (const auto& [name, in] : s.inputs) {
    Sample(out, "fieldsync_readings_ingested_total", InputLabel(name),
           std::to_string(in.readings_ingested));
  }
  Header(out, "fieldsync_frames_rejected_total", "counter",
         "Frames rejected, per input and reason.");
  for (const auto& [name, in] : s.inputs) {
    for (const auto& [reason, n] : in.rejected) {
      Sample(out, "fieldsync_frames_rejected_total",
             InputLabel(name) + ",reason=\"" + EscapeLabel(reason) + "\"", std::to_string(n));
    }
  }
  Header(out, "fieldsync_duplicates_total", "counter", "Duplicate readings dropped, per input.");
  for (const auto& [name, in] : s.inputs) {
    Sample(out, "fieldsync_duplicates_total", InputLabel(name), std::to_string(in.duplicates));
  }
  Scalar(out, "fieldsync_pending_readings", "gauge", "Readings waiting for upload.",
         std::to_string(s.pending_readings));
  Scalar(out, "fieldsync_oldest_pending_age_seconds", "gauge", "Age of the oldest pending reading.",
         FormatDouble(s.oldest_pending_age_seconds));
  Scalar(out, "fieldsync_uploaded_readings_total", "counter", "Readings uploaded to the remote.",
         std::to_string(s.uploaded_readings));
  Scalar(out, "fieldsync_upload_skipped_total", "counter", "Readings the remote already had.",
         std::to_string(s.upload_skipped));
  Scalar(out, "fieldsync_sync_errors_total", "counter", "Failed sync cycles.",
         std::to_string(s.sync_errors));
  Scalar(out, "fieldsync_dropped_readings_total", "counter",
         "Pending readings deleted to make room (drop_oldest).",
         std::to_string(s.dropped_readings));
  Scalar(out, "fieldsync_late_readings_total", "counter", "Readings older than the late window.",
         std::to_string(s.late_readings));
  Scalar(out, "fieldsync_quarantined_readings", "gauge", "Rows the remote refused for their data.",
         std::to_string(s.quarantined_readings));
  Scalar(out, "fieldsync_store_bytes", "gauge", "Size of the local store on disk.",
         std::to_string(s.store_bytes));
  Header(out, "fieldsync_input_connected", "gauge", "1 while the input is connected.");
  for (const auto& [name, in] : s.inputs) {
    Sample(out, "fieldsync_input_connected", InputLabel(name), in.connected ? "1" : "0");
  }
  Scalar(out, "fieldsync_clock_synced", "gauge", "1 while the system clock is synchronised.",
         s.clock_synced ? "1" : "0");
  return out;
}

}  // namespace fieldsync::agent
