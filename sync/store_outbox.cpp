#include "sync/store_outbox.hpp"

namespace fieldsync::sync {

core::Expected<store::UploadBatch> StoreReadingOutbox::OldestPending(std::size_t limit) {
  return store_.OldestPending(limit);
}

core::Status StoreReadingOutbox::DeleteUploaded(const std::vector<std::int64_t>& ids) {
  return store_.DeleteUploaded(ids);
}

core::Status StoreReadingOutbox::Quarantine(const std::vector<std::int64_t>& ids,
                                            const std::string& reason) {
  return core::MakeError(core::Errc::kUnsupported,
                         "the local store keeps no quarantine yet; " + std::to_string(ids.size()) +
                             " refused row(s) stay pending (" + reason + ")");
}

core::Expected<OutboxState> StoreReadingOutbox::State() {
  auto stats = store_.Stats();
  if (!stats) return stats.error();
  return OutboxState{stats->pending_readings, stats->oldest_pending_ts, stats->dropped};
}

core::Expected<std::vector<store::HourlyRow>> AggregateBucketOutbox::PendingHourly(
    std::size_t limit) {
  return aggregates_.PendingHourly(limit);
}

core::Expected<std::vector<store::DailyRow>> AggregateBucketOutbox::PendingDaily(
    std::size_t limit) {
  return aggregates_.PendingDaily(limit);
}

core::Status AggregateBucketOutbox::MarkUploaded(const std::vector<store::HourlyRow>& rows) {
  auto marked = aggregates_.MarkUploaded(rows);
  if (!marked) return marked.error();
  return core::Ok();
}

core::Status AggregateBucketOutbox::MarkUploaded(const std::vector<store::DailyRow>& rows) {
  auto marked = aggregates_.MarkUploaded(rows);
  if (!marked) return marked.error();
  return core::Ok();
}

}  // namespace fieldsync::sync
