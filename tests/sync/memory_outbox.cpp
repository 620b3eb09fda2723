#include "tests/sync/memory_outbox.hpp"

#include <algorithm>

namespace fieldsync::testing {

std::int64_t MemoryReadingOutbox::Add(const core::Reading& reading, core::TimeUs received_at) {
  std::lock_guard<std::mutex> lock(mu_);
  rows_[next_id_] = Row{reading, received_at};
  return next_id_++;
}

std::size_t MemoryReadingOutbox::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_.size();
}

std::vector<core::Reading> MemoryReadingOutbox::PendingReadings() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<core::Reading> out;
  for (const auto& [id, row] : rows_) out.push_back(row.reading);
  return out;
}

core::Expected<store::UploadBatch> MemoryReadingOutbox::OldestPending(std::size_t limit,
                                                                      std::int64_t after_id) {
  std::lock_guard<std::mutex> lock(mu_);
  store::UploadBatch batch;
  for (auto it = rows_.upper_bound(after_id); it != rows_.end(); ++it) {
    const auto& [id, row] = *it;
    if (batch.ids.size() >= limit) break;
    if (quarantined_.count(id) != 0) continue;
    batch.ids.push_back(id);
    batch.readings.push_back(row.reading);
    batch.received_at.push_back(row.received_at);
  }
  return batch;
}

core::Status MemoryReadingOutbox::DeleteUploaded(const std::vector<std::int64_t>& ids) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto id : ids) rows_.erase(id);
  return core::Ok();
}

core::Status MemoryReadingOutbox::Quarantine(const std::vector<std::int64_t>& ids,
                                             const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!quarantine_available_) return core::MakeError(core::Errc::kUnsupported, "no quarantine");
  for (auto id : ids) {
    quarantined_[id] = reason;
    rows_.erase(id);
  }
  return core::Ok();
}

core::Expected<sync::OutboxState> MemoryReadingOutbox::State() {
  std::lock_guard<std::mutex> lock(mu_);
  sync::OutboxState state;
  state.pending = static_cast<std::int64_t>(rows_.size());
  for (const auto& [id, row] : rows_) {
    if (!state.oldest_pending || row.reading.ts < *state.oldest_pending) {
      state.oldest_pending = row.reading.ts;
    }
  }
  return state;
}

core::Expected<std::vector<store::HourlyRow>> MemoryBucketOutbox::PendingHourly(std::size_t limit) {
  return std::vector<store::HourlyRow>(
      hourly.begin(), hourly.begin() + static_cast<std::ptrdiff_t>(std::min(limit, hourly.size())));
}

core::Expected<std::vector<store::DailyRow>> MemoryBucketOutbox::PendingDaily(std::size_t limit) {
  return std::vector<store::DailyRow>(
      daily.begin(), daily.begin() + static_cast<std::ptrdiff_t>(std::min(limit, daily.size())));
}

core::Status MemoryBucketOutbox::MarkUploaded(const std::vector<store::HourlyRow>& rows) {
  ++mark_calls;
  hourly.erase(hourly.begin(), hourly.begin() + static_cast<std::ptrdiff_t>(rows.size()));
  return core::Ok();
}

core::Status MemoryBucketOutbox::MarkUploaded(const std::vector<store::DailyRow>& rows) {
  ++mark_calls;
  daily.erase(daily.begin(), daily.begin() + static_cast<std::ptrdiff_t>(rows.size()));
  return core::Ok();
}

}  // namespace fieldsync::testing
