#pragma once
// In-memory implementations of the uploader's outbox interfaces, so that the upload protocol is
// tested against a real PostgreSQL without depending on the SQLite store's internals.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "sync/outbox.hpp"

namespace fieldsync::testing {

class MemoryReadingOutbox final : public sync::ReadingOutbox {
 public:
  // Adds a reading with the next id; returns the id.
  std::int64_t Add(const core::Reading& reading, core::TimeUs received_at = 0);
  std::size_t pending() const;
  std::vector<core::Reading> PendingReadings() const;
  const std::map<std::int64_t, std::string>& quarantined() const { return quarantined_; }
  void set_quarantine_available(bool available) { quarantine_available_ = available; }

  core::Expected<store::UploadBatch> OldestPending(std::size_t limit,
                                                   std::int64_t after_id) override;
  core::Status DeleteUploaded(const std::vector<std::int64_t>& ids) override;
  core::Status Quarantine(const std::vector<std::int64_t>& ids, const std::string& reason) override;
  core::Expected<sync::OutboxState> State() override;

 private:
  struct Row {
    core::Reading reading;
    core::TimeUs received_at;
  };
  mutable std::mutex mu_;
  std::map<std::int64_t, Row> rows_;
  std::map<std::int64_t, std::string> quarantined_;
  std::int64_t next_id_ = 1;
  bool quarantine_available_ = true;
};

class MemoryBucketOutbox final : public sync::BucketOutbox {
 public:
  std::vector<store::HourlyRow> hourly;  // pending
  std::vector<store::DailyRow> daily;
  int mark_calls = 0;

  core::Expected<std::vector<store::HourlyRow>> PendingHourly(std::size_t limit) override;
  core::Expected<std::vector<store::DailyRow>> PendingDaily(std::size_t limit) override;
  core::Status MarkUploaded(const std::vector<store::HourlyRow>& rows) override;
  core::Status MarkUploaded(const std::vector<store::DailyRow>& rows) override;
};

}  // namespace fieldsync::testing
