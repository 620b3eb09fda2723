#pragma once
// Uploader: one sync cycle of §5 against the remote PostgreSQL.
//
// A cycle sends, each in its own remote transaction that also claims the gateway row (the
// ownership rule: refused with kConflict when another instance_id holds the name) and, in the
// first transaction of the cycle, upserts the `metrics` rows:
//   1. aggregate buckets changed since their last upload (hourly, then daily), with
//      INSERT ... ON CONFLICT DO UPDATE, so dashboards recover first after an outage;
//   2. the pending readings, oldest first, for about five seconds: each transaction COPYs one or
//      more batches of `batch_size` straight into `readings` (more than one when the link's
//      round trip is long: transaction_sizer.hpp), read from the outbox while the COPY streams,
//      and upserts `devices` (first_seen/last_seen) with its COMMIT. When a COPY hits a unique
//      violation (some rows are already there: a resend after a lost COMMIT answer), the
//      transaction is rolled back and its batches go one by one the staged way: COPY into a
//      temporary staging table (ON COMMIT DROP), INSERT INTO readings ... ON CONFLICT DO
//      NOTHING (inserted = the command's row count, skipped = the rest);
//   3. when there was nothing to send, a transaction that only refreshes the gateways row.
// Round trips: the first transaction of a cycle claims the gateway row before anything else
// (BEGIN, claim, metrics: one round trip) and stops the cycle when another instance owns it;
// later ones of the same cycle start with one "BEGIN; COPY" round trip and refresh the row with
// their COMMIT, so a readings transaction costs three round trips besides its data.
// Invariant: a reading leaves the local outbox only after the remote COMMIT of its transaction
// returned (deletes gather the rows of several transactions and run while the next one streams,
// and at the end of every cycle); a dropped link or crash anywhere before leaves it local, and
// the primary key absorbs the resend. A batch refused for its data (SQLSTATE classes 22/23) is
// bisected until the refused rows are isolated; those go to the local quarantine and the rest are
// uploaded (when the quarantine is unavailable, a refused row stays pending and the cycle ends in
// kError).
//
// The cycle's result is three-way (Fluent Bit style): kOk, kRetry (link, timeout, SQLSTATE
// 08/40/53/57: nothing lost, back off and try again) or kError (the data stays; a person must
// act: schema, privileges, ownership, quarantine unavailable). The caller owns retries and
// backoff. Connects on demand and keeps the connection between cycles.
//
// Not thread-safe: one thread runs cycles. Borrows the outboxes and the clock.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/expected.hpp"
#include "core/metric_spec.hpp"
#include "sync/copy_text.hpp"
#include "sync/id_runs.hpp"
#include "sync/outbox.hpp"
#include "sync/pg_connection.hpp"
#include "sync/transaction_sizer.hpp"

namespace fieldsync::sync {

struct UploaderOptions {
  std::string url;  // secret: never logged
  std::string schema = "fieldsync";
  std::string gateway;
  std::string instance_id;  // the local store's
  std::string version;      // reported in the gateways row
  std::size_t batch_size = 5000;
  std::int64_t op_timeout_s = 30;
  std::map<std::string, core::MetricSpec> metrics;  // upserted into `metrics` each cycle
};

// The page cache the uploader's connection to the local store needs: it walks the outbox in id
// order and deletes what it walked, so a small cache serves it as well as a large one.
constexpr std::int64_t kUploaderStoreCacheKib = 512;

enum class UploadOutcome : unsigned char { kOk, kRetry, kError };

// How many readings a cycle sends: as many as fit in its time (a backlog drains in few cycles),
// or at most one batch in one transaction (`fieldsync sync --once`, §7).
enum class CycleScope : unsigned char { kBacklog, kOneBatch };

const char* ToString(UploadOutcome outcome);

struct CycleReport {
  UploadOutcome outcome = UploadOutcome::kOk;
  core::Errc code = core::Errc::kInternal;  // meaningful unless kOk
  std::string message;                      // why, unless kOk; never a secret
  std::int64_t batch_rows = 0;              // readings taken from the outbox this cycle
  std::int64_t inserted = 0;                // new at the remote
  std::int64_t skipped = 0;                 // already at the remote (resent after a lost COMMIT)
  std::int64_t quarantined = 0;
  std::int64_t hourly = 0;  // buckets upserted
  std::int64_t daily = 0;
  bool more_pending = false;  // the cycle ended with readings still to send
};

class Uploader {
 public:
  // `buckets` may be null: then no aggregates are sent.
  Uploader(UploaderOptions options, ReadingOutbox& readings, BucketOutbox* buckets,
           core::Clock& clock);
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  CycleReport RunCycle(CycleScope scope = CycleScope::kBacklog);
  // Drops the connection (the next cycle reconnects).
  void Disconnect();

 private:
  core::Status RunCycleSteps(CycleReport& report);
  core::Status EnsureConnected();
  core::Status RefreshState();
  // BEGIN + the gateway claim (+ the metrics upsert, first time in a cycle) in one pipelined
  // round trip; kConflict when another instance owns the gateway (rolled back).
  core::Status OpenTransaction();
  // `closing` followed by COMMIT in one pipelined round trip; their results without COMMIT's.
  // Rolls back on failure.
  core::Expected<std::vector<PgResult>> CommitTransaction(std::vector<PgStatement> closing);
  // OpenTransaction, then `body`, which returns the statements that finish its work, then
  // CommitTransaction of those.
  using TransactionBody = std::function<core::Expected<std::vector<PgStatement>>()>;
  core::Expected<std::vector<PgResult>> InTransaction(const TransactionBody& body);
  PgStatement ClaimGatewayStatement() const;
  std::optional<PgStatement> MetricsStatement() const;
  core::Status UploadHourly(CycleReport& report);
  // Upserts one batch of bucket rows (COPY text) into `table` through a staging table, in one
  // remote transaction.
  core::Status UpsertBuckets(const std::string& table, const std::string& key_columns,
                             const std::string& extra_updates, const CopyTextWriter& rows);
  core::Status UploadDaily(CycleReport& report);

  // Readings (uploader_readings.cpp).
  struct TransactionSpan {
    std::int64_t after_id = 0;  // the transaction carries pending rows with ids above this
    std::int64_t last_id = 0;   // ... up to this one
    bool last_batch_full = false;
  };
  core::Status UploadReadingBacklog(CycleReport& report);
  // One direct transaction of one or more batches, the first being `batch`; fills `span` as it
  // streams, so that a failed transaction can be sent again batch by batch.
  core::Status StreamReadings(store::UploadBatch batch, TransactionSpan& span, CycleReport& report);
  // The rows of a failed direct transaction, batch by batch, each through UploadReadings.
  core::Status ResendBatchByBatch(const TransactionSpan& span, CycleReport& report);
  // Deletes the rows whose COMMIT returned and that are still in the local outbox.
  core::Status DeleteCommitted();
  core::Status UploadReadings(const store::UploadBatch& batch, std::size_t begin, std::size_t end,
                              CycleReport& report);
  void EncodeReading(const store::UploadBatch& batch, std::size_t i, CopyTextWriter& w) const;
  std::string EncodeReadings(const store::UploadBatch& batch, std::size_t begin,
                             std::size_t end) const;
  core::Status PutReadings(const store::UploadBatch& batch);
  PgStatement DevicesStatement(const store::UploadBatch& batch, std::size_t begin,
                               std::size_t end) const;
  core::Expected<std::int64_t> SendReadings(const store::UploadBatch& batch, std::size_t begin,
                                            std::size_t end);
  core::Status StreamCopy(const std::string& copy_sql, const std::string& rows);
  core::Status PutCopyChunks(const std::string& rows);

  UploaderOptions options_;
  std::string quoted_schema_;
  ReadingOutbox& readings_;
  BucketOutbox* buckets_;
  core::Clock& clock_;
  std::unique_ptr<PgConnection> conn_;
  OutboxState state_;  // for the gateways row: read at most every kStateRefresh, less uploads
  std::optional<std::chrono::steady_clock::time_point> state_read_at_;
  bool metrics_sent_ = false;           // this cycle
  int transactions_ = 0;                // committed this cycle
  std::optional<core::Error> refused_;  // a refused row that could not be quarantined
  TransactionSizer sizer_;
  CycleScope scope_ = CycleScope::kBacklog;  // of the running cycle
  IdRuns committed_;                         // remotely committed, not yet deleted locally
};

}  // namespace fieldsync::sync
