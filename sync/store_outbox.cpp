#include "sync/store_outbox.hpp"

namespace fieldsync::sync {

std::string SqlStateInMessage(std::string_view message) {
  constexpr std::string_view kMarker = "SQLSTATE ";
  constexpr std::size_t kLength = 5;  // SQLSTATE codes are five characters, [0-9A-Z]
  for (std::size_t at = message.find(kMarker); at != std::string_view::npos;
       at = message.find(kMarker, at + 1)) {
    std::string_view code = message.substr(at + kMarker.size(), kLength);
    bool valid = code.size() == kLength;
    for (char c : code) valid = valid && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'));
    if (valid) return std::string(code);
  }
  return "";
}

core::Expected<store::UploadBatch> StoreReadingOutbox::OldestPending(std::size_t limit,
                                                                     std::int64_t after_id) {
  return store_.OldestPending(limit, after_id);
}

core::Status StoreReadingOutbox::DeleteUploaded(const std::vector<std::int64_t>& ids) {
  return store_.DeleteUploaded(ids);
}

core::Status StoreReadingOutbox::Quarantine(const std::vector<std::int64_t>& ids,
                                            const std::string& reason) {
  auto moved = store_.Quarantine(ids, reason, SqlStateInMessage(reason));
  if (!moved) return moved.error();
  return core::Ok();
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
