#include "agent/prometheus.hpp"

#include <string>

// CppUTest last: its leak detector redefines operator new.
#include <CppUTest/TestHarness.h>

using namespace fieldsync::agent;

namespace {
bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}
}  // namespace

TEST_GROUP(Prometheus){};

TEST(Prometheus, EveryMetricOfTheContractHasTypeAndSample) {
  MetricsSnapshot s;
  s.inputs["broker"].readings_ingested = 12;
  s.inputs["broker"].duplicates = 2;
  s.inputs["broker"].rejected["parse"] = 3;
  s.inputs["broker"].connected = true;
  s.inputs["http"].connected = false;
  s.pending_readings = 7;
  s.oldest_pending_age_seconds = 1.5;
  s.uploaded_readings = 100;
  s.upload_skipped = 4;
  s.sync_errors = 1;
  s.dropped_readings = 5;
  s.late_readings = 6;
  s.quarantined_readings = 8;
  s.store_bytes = 4096;
  s.clock_synced = true;
  const std::string text = RenderPrometheus(s);

  CHECK(Has(text, "# TYPE fieldsync_readings_ingested_total counter"));
  CHECK(Has(text, "fieldsync_readings_ingested_total{input=\"broker\"} 12"));
  CHECK(Has(text, "fieldsync_frames_rejected_total{input=\"broker\",reason=\"parse\"} 3"));
  CHECK(Has(text, "fieldsync_duplicates_total{input=\"broker\"} 2"));
  CHECK(Has(text, "fieldsync_pending_readings 7"));
  CHECK(Has(text, "fieldsync_oldest_pending_age_seconds 1.500000"));
  CHECK(Has(text, "fieldsync_uploaded_readings_total 100"));
  CHECK(Has(text, "fieldsync_upload_skipped_total 4"));
  CHECK(Has(text, "fieldsync_sync_errors_total 1"));
  CHECK(Has(text, "fieldsync_dropped_readings_total 5"));
  CHECK(Has(text, "fieldsync_late_readings_total 6"));
  CHECK(Has(text, "fieldsync_quarantined_readings 8"));
  CHECK(Has(text, "fieldsync_store_bytes 4096"));
  CHECK(Has(text, "fieldsync_input_connected{input=\"broker\"} 1"));
  CHECK(Has(text, "fieldsync_input_connected{input=\"http\"} 0"));
  CHECK(Has(text, "fieldsync_clock_synced 1"));
}

TEST(Prometheus, LabelValuesAreEscaped) {
  MetricsSnapshot s;
  s.inputs["we\"ird\\name\n"].readings_ingested = 1;
  const std::string text = RenderPrometheus(s);
  CHECK(Has(text, "fieldsync_readings_ingested_total{input=\"we\\\"ird\\\\name\\n\"} 1"));
}
