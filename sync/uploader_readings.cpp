// The readings half of Uploader (uploader.hpp): streamed direct transactions, the staged
// fallback for resends, and the bisection that isolates rows the server refuses.
#include <algorithm>
#include <chrono>
#include <utility>

#include "sync/copy_text.hpp"
#include "sync/device_ranges.hpp"
#include "sync/uploader.hpp"

namespace fieldsync::sync {
namespace {

using core::Errc;
using core::MakeError;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kReadingColumns =
    "(gateway, device, metric, ts, value, ts_source, received_at)";
// A cycle stops starting transactions after this long, so that the loop around it sees stop
// requests, new settings and run requests in time; more_pending then asks for the next cycle.
constexpr auto kCycleBudget = std::chrono::seconds(5);
// Uploaded rows leave the local store in deletes of at least this many (and at the end of every
// cycle): one SQLite transaction then writes each b-tree page it empties once instead of once
// per batch; each local transaction deletes at most this many. A crash before the delete costs
// a resend of those rows (the primary key absorbs it).
constexpr std::size_t kDeleteAtLeast = 32 * 1024;
constexpr std::size_t kStreamChunkBytes = 64 * 1024;
// A transaction whose ids are far from consecutive (held or quarantined rows in between) stops
// early, so that its ids stay a few hundred KiB.
constexpr std::size_t kMaxIdRuns = 16 * 1024;

std::chrono::microseconds Since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
}

}  // namespace

core::Status Uploader::UploadReadingBacklog(CycleReport& report) {
  const auto started = SteadyClock::now();
  std::int64_t after = 0;
  while (true) {
    auto batch = readings_.OldestPending(options_.batch_size, after);
    if (!batch) return batch.error().Wrap("local store");
    if (batch->ids.empty()) {
      report.more_pending = false;
      return core::Ok();
    }
    TransactionSpan span;
    span.after_id = after;
    auto sent = StreamReadings(std::move(*batch), span, report);
    if (!sent) {
      const Errc code = sent.error().code;
      // A resend (unique violation) or a row the server refuses: the staged path and the
      // bisection work batch by batch.
      if (code != Errc::kConflict && code != Errc::kRemoteData) return sent;
      if (span.last_id == 0) return sent;
      if (auto resent = ResendBatchByBatch(span, report); !resent) return resent;
    }
    after = span.last_id;
    report.more_pending = span.last_batch_full;
    if (!span.last_batch_full || scope_ == CycleScope::kOneBatch) return core::Ok();
    if (SteadyClock::now() - started >= kCycleBudget) return core::Ok();
  }
}

core::Status Uploader::StreamReadings(store::UploadBatch batch, TransactionSpan& span,
                                      CycleReport& report) {
  const std::string copy =
      "COPY " + quoted_schema_ + ".readings " + std::string(kReadingColumns) + " FROM STDIN";
  const bool first_of_cycle = transactions_ == 0;
  if (first_of_cycle) {
    if (auto opened = OpenTransaction(); !opened) return opened;
    if (auto begun = conn_->BeginCopy(copy); !begun) {
      conn_->RollbackQuietly();
      return begun;
    }
  } else {
    // Ownership was settled by this cycle's first transaction; BEGIN travels with the COPY.
    const auto sent_at = SteadyClock::now();
    if (auto begun = conn_->BeginCopy("BEGIN; " + copy); !begun) {
      conn_->RollbackQuietly();
      return begun;
    }
    sizer_.RecordRoundTrip(Since(sent_at));
  }

  DeviceRanges devices;
  IdRuns ids;
  std::size_t batches = 0;
  const auto streaming_since = SteadyClock::now();
  while (true) {
    span.last_id = batch.ids.back();
    span.last_batch_full = batch.ids.size() >= options_.batch_size;
    if (auto put = PutReadings(batch); !put) {
      conn_->Close();
      return put;
    }
    for (const core::Reading& r : batch.readings) devices.Add(r.device, r.ts);
    ids.Append(batch.ids);
    ++batches;
    report.batch_rows += static_cast<std::int64_t>(batch.ids.size());
    // The server parses what was just sent while the previous transaction's rows leave the
    // local store.
    if (committed_.size() >= kDeleteAtLeast) {
      if (auto deleted = DeleteCommitted(); !deleted) {
        conn_->Close();
        return deleted;
      }
    }
    if (!span.last_batch_full || scope_ == CycleScope::kOneBatch || ids.runs() >= kMaxIdRuns ||
        !sizer_.TakeAnother(batches, ids.size(), Since(streaming_since))) {
      break;
    }
    batch = {};  // one batch in memory at a time
    auto next = readings_.OldestPending(options_.batch_size, span.last_id);
    if (!next) {
      conn_->Close();
      return next.error().Wrap("local store");
    }
    if (next->ids.empty()) {
      span.last_batch_full = false;
      break;
    }
    batch = std::move(*next);
  }
  if (auto ended = conn_->EndCopy(); !ended) {
    conn_->RollbackQuietly();
    return ended.error();
  }
  std::vector<PgStatement> closing = {devices.UpsertStatement(quoted_schema_, options_.gateway)};
  // Refreshes pending and last_sync_at; its WHERE leaves a row another instance took meanwhile
  // alone, and the next cycle's first transaction then stops.
  if (!first_of_cycle) closing.push_back(ClaimGatewayStatement());
  if (auto committed = CommitTransaction(std::move(closing)); !committed) return committed.error();
  // COMMIT returned: these rows may leave the outbox now (DeleteCommitted, while the next
  // transaction streams or at the end of the cycle).
  committed_.Append(ids);
  report.inserted += static_cast<std::int64_t>(ids.size());
  return core::Ok();
}

core::Status Uploader::ResendBatchByBatch(const TransactionSpan& span, CycleReport& report) {
  if (auto deleted = DeleteCommitted(); !deleted) return deleted;
  std::int64_t after = span.after_id;
  while (after < span.last_id) {
    auto batch = readings_.OldestPending(options_.batch_size, after);
    if (!batch) return batch.error().Wrap("local store");
    // Ids above the failed transaction's wait for the next one.
    auto beyond = std::upper_bound(batch->ids.begin(), batch->ids.end(), span.last_id);
    const auto end = static_cast<std::size_t>(beyond - batch->ids.begin());
    if (end == 0) return core::Ok();
    if (auto sent = UploadReadings(*batch, 0, end, report); !sent) return sent;
    after = batch->ids[end - 1];
  }
  return core::Ok();
}

core::Status Uploader::DeleteCommitted() {
  if (committed_.empty()) return core::Ok();
  // Chunks bound the ids in memory; each is one local transaction. After a failed chunk the
  // whole set is tried again later: ids already gone are skipped.
  auto deleted = committed_.ForEachChunk(kDeleteAtLeast,
                                         [&](const std::vector<std::int64_t>& ids) -> core::Status {
                                           return readings_.DeleteUploaded(ids);
                                         });
  if (!deleted) {
    return deleted.error().Wrap(
        "uploaded, but the local delete failed (the rows will be resent and skipped)");
  }
  state_.pending =
      std::max<std::int64_t>(0, state_.pending - static_cast<std::int64_t>(committed_.size()));
  committed_.Clear();
  return core::Ok();
}

void Uploader::EncodeReading(const store::UploadBatch& batch, std::size_t i,
                             CopyTextWriter& w) const {
  const core::Reading& r = batch.readings[i];
  w.Text(options_.gateway);
  w.Text(r.device);
  w.Text(r.metric);
  w.Timestamp(r.ts);
  w.Double(r.value);
  w.Text(core::ToString(r.ts_source));
  if (i < batch.received_at.size()) {
    w.Timestamp(batch.received_at[i]);
  } else {
    w.Null();
  }
  w.EndRow();
}

std::string Uploader::EncodeReadings(const store::UploadBatch& batch, std::size_t begin,
                                     std::size_t end) const {
  CopyTextWriter w;
  for (std::size_t i = begin; i < end; ++i) EncodeReading(batch, i, w);
  return w.buffer();
}

core::Status Uploader::PutReadings(const store::UploadBatch& batch) {
  // Chunk by chunk, so that the encoded text never holds more than one chunk of a batch.
  CopyTextWriter w;
  for (std::size_t i = 0; i < batch.ids.size(); ++i) {
    EncodeReading(batch, i, w);
    if (w.size() >= kStreamChunkBytes) {
      if (auto put = conn_->PutCopyData(w.buffer()); !put) return put;
      w.Clear();
    }
  }
  if (w.size() == 0) return core::Ok();
  return conn_->PutCopyData(w.buffer());
}

PgStatement Uploader::DevicesStatement(const store::UploadBatch& batch, std::size_t begin,
                                       std::size_t end) const {
  DeviceRanges devices;
  for (std::size_t i = begin; i < end; ++i)
    devices.Add(batch.readings[i].device, batch.readings[i].ts);
  return devices.UpsertStatement(quoted_schema_, options_.gateway);
}

core::Expected<std::int64_t> Uploader::SendReadings(const store::UploadBatch& batch,
                                                    std::size_t begin, std::size_t end) {
  const std::string rows = EncodeReadings(batch, begin, end);
  const std::string columns(kReadingColumns);
  // Fast path: COPY straight into readings; the devices upsert then travels with COMMIT. A
  // resent row makes the COPY fail with a unique violation (kConflict), and then the staged
  // path below absorbs the duplicates.
  auto direct = InTransaction([&]() -> core::Expected<std::vector<PgStatement>> {
    if (auto copied =
            StreamCopy("COPY " + quoted_schema_ + ".readings " + columns + " FROM STDIN", rows);
        !copied) {
      return copied.error();
    }
    return std::vector<PgStatement>{DevicesStatement(batch, begin, end)};
  });
  if (direct) return static_cast<std::int64_t>(end - begin);
  if (direct.error().code != Errc::kConflict) return direct.error();

  auto staged = InTransaction([&]() -> core::Expected<std::vector<PgStatement>> {
    auto created = conn_->Exec("CREATE TEMP TABLE fs_readings_stage (LIKE " + quoted_schema_ +
                               ".readings) ON COMMIT DROP");
    if (!created) return created.error();
    if (auto copied = StreamCopy("COPY fs_readings_stage " + columns + " FROM STDIN", rows);
        !copied) {
      return copied.error();
    }
    return std::vector<PgStatement>{
        {"INSERT INTO " + quoted_schema_ + ".readings " + columns +
             " SELECT gateway, device, metric, ts, value, ts_source, received_at "
             "FROM fs_readings_stage ON CONFLICT DO NOTHING",
         {}},
        DevicesStatement(batch, begin, end)};
  });
  if (!staged) return staged.error();
  return (*staged)[0].AffectedRows();
}

core::Status Uploader::UploadReadings(const store::UploadBatch& batch, std::size_t begin,
                                      std::size_t end, CycleReport& report) {
  auto inserted = SendReadings(batch, begin, end);
  const std::vector<std::int64_t> ids(batch.ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                      batch.ids.begin() + static_cast<std::ptrdiff_t>(end));
  if (inserted) {
    // Invariant: a row leaves the outbox only after the remote COMMIT returned (just now).
    if (auto deleted = readings_.DeleteUploaded(ids); !deleted) {
      return deleted.error().Wrap(
          "uploaded, but the local delete failed (the rows will be resent and skipped)");
    }
    state_.pending =
        std::max<std::int64_t>(0, state_.pending - static_cast<std::int64_t>(ids.size()));
    report.inserted += *inserted;
    report.skipped += static_cast<std::int64_t>(end - begin) - *inserted;
    return core::Ok();
  }
  if (inserted.error().code != Errc::kRemoteData) return inserted.error();
  if (end - begin == 1) {
    const core::Reading& r = batch.readings[begin];
    const std::string reason = inserted.error().message;
    auto moved = readings_.Quarantine(ids, reason);
    if (!moved) {
      // The row stays pending; the rest of the batch still goes, and the cycle reports it.
      if (!refused_) {
        refused_ = MakeError(moved.error().code, "the server refused reading (" + r.device + ", " +
                                                     r.metric + ", " + core::FormatRfc3339(r.ts) +
                                                     "): " + reason + "; " + moved.error().message);
      }
      return core::Ok();
    }
    ++report.quarantined;
    return core::Ok();
  }
  // Bisect: the halves go in their own transactions until the refused rows stand alone.
  const std::size_t mid = begin + (end - begin) / 2;
  if (auto left = UploadReadings(batch, begin, mid, report); !left) return left;
  return UploadReadings(batch, mid, end, report);
}

}  // namespace fieldsync::sync
