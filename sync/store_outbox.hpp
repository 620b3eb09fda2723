#pragma once
// Adapters from the local store to the uploader's outbox interfaces. They borrow the store
// objects, which must outlive them; same thread rules as the store.

#include <string>
#include <string_view>

#include "store/aggregate_store.hpp"
#include "store/store.hpp"
#include "sync/outbox.hpp"

namespace fieldsync::sync {

// The SQLSTATE in an error message of the PostgreSQL connection ("... SQLSTATE 23514: ..."),
// possibly wrapped in context; empty when the message carries none.
std::string SqlStateInMessage(std::string_view message);

class StoreReadingOutbox final : public ReadingOutbox {
 public:
  explicit StoreReadingOutbox(store::Store& store) : store_(store) {}
  core::Expected<store::UploadBatch> OldestPending(std::size_t limit,
                                                   std::int64_t after_id) override;
  core::Status DeleteUploaded(const std::vector<std::int64_t>& ids) override;
  // Store::Quarantine with the SQLSTATE taken from the reason (SqlStateInMessage).
  core::Status Quarantine(const std::vector<std::int64_t>& ids, const std::string& reason) override;
  core::Expected<OutboxState> State() override;

 private:
  store::Store& store_;
};

class AggregateBucketOutbox final : public BucketOutbox {
 public:
  explicit AggregateBucketOutbox(store::AggregateStore& aggregates) : aggregates_(aggregates) {}
  core::Expected<std::vector<store::HourlyRow>> PendingHourly(std::size_t limit) override;
  core::Expected<std::vector<store::DailyRow>> PendingDaily(std::size_t limit) override;
  core::Status MarkUploaded(const std::vector<store::HourlyRow>& rows) override;
  core::Status MarkUploaded(const std::vector<store::DailyRow>& rows) override;

 private:
  store::AggregateStore& aggregates_;
};

}  // namespace fieldsync::sync
