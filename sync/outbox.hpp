#pragma once
// What the uploader needs from the local store, as two small interfaces so that the upload
// protocol can be exercised against any implementation (store_outbox.hpp adapts the real Store
// and AggregateStore).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "core/time.hpp"
#include "store/aggregate_store.hpp"
#include "store/store.hpp"

namespace fieldsync::sync {

// The gateway's local state as reported in its remote `gateways` row.
struct OutboxState {
  std::int64_t pending = 0;
  std::optional<core::TimeUs> oldest_pending;
  std::int64_t dropped = 0;
};

class ReadingOutbox {
 public:
  virtual ~ReadingOutbox() = default;
  // Up to `limit` pending readings with an id above `after_id` (0: from the start), oldest
  // first, ids ascending.
  virtual core::Expected<store::UploadBatch> OldestPending(std::size_t limit,
                                                           std::int64_t after_id) = 0;
  // Deletes exactly these rows. Invariant: only after the remote COMMIT of the same rows.
  virtual core::Status DeleteUploaded(const std::vector<std::int64_t>& ids) = 0;
  // Moves rows the remote refused for their data out of the upload queue, with the server's
  // reason. kUnsupported when the store keeps no quarantine: the rows then stay pending.
  virtual core::Status Quarantine(const std::vector<std::int64_t>& ids,
                                  const std::string& reason) = 0;
  virtual core::Expected<OutboxState> State() = 0;
};

// Aggregate buckets changed since their last upload.
class BucketOutbox {
 public:
  virtual ~BucketOutbox() = default;
  virtual core::Expected<std::vector<store::HourlyRow>> PendingHourly(std::size_t limit) = 0;
  virtual core::Expected<std::vector<store::DailyRow>> PendingDaily(std::size_t limit) = 0;
  // After the remote COMMIT of these rows: marks them uploaded at the version they were read.
  virtual core::Status MarkUploaded(const std::vector<store::HourlyRow>& rows) = 0;
  virtual core::Status MarkUploaded(const std::vector<store::DailyRow>& rows) = 0;
};

}  // namespace fieldsync::sync
