#pragma once
// GET /metrics: the counters of §8 in the Prometheus text exposition format (version 0.0.4).
// The agent fills a MetricsSnapshot from the store's stats and the inputs' live state; rendering
// is plain code over that value. Thread-safe (no shared state).

#include <cstdint>
#include <map>
#include <string>

namespace fieldsync::agent {

struct InputMetrics {
  std::int64_t readings_ingested = 0;
  std::int64_t duplicates = 0;
  std::map<std::string, std::int64_t> rejected;  // reason name -> frames
  bool connected = false;
};

struct MetricsSnapshot {
  std::map<std::string, InputMetrics> inputs;  // by input name
  std::int64_t pending_readings = 0;
  double oldest_pending_age_seconds = 0.0;  // 0 when nothing is pending
  std::int64_t uploaded_readings = 0;
  std::int64_t upload_skipped = 0;
  std::int64_t sync_errors = 0;
  std::int64_t dropped_readings = 0;
  std::int64_t late_readings = 0;
  std::int64_t quarantined_readings = 0;
  std::int64_t store_bytes = 0;
  bool clock_synced = false;
};

// Every metric of §8 with # HELP and # TYPE lines; label values are escaped (\\, \", \n).
std::string RenderPrometheus(const MetricsSnapshot& snapshot);

// The content type GET /metrics answers with.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace fieldsync::agent
