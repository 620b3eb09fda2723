// The write path of the store: grouped commits, dedupe, the budget and disk-full handling.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/clock_hold.hpp"
#include "store/counters.hpp"
#include "store/schema.hpp"
#include "store/seq_window.hpp"
#include "store/store_impl.hpp"

namespace fieldsync::store {
namespace {

// The key first: a key the store knows (a pending reading's, or one kept for the late window)
// makes the reading a duplicate. ?4 is the id the reading will take.
constexpr const char* kInsertKey =
    "INSERT INTO reading_keys(ts, series_id, value, reading_id, aside) "
    "VALUES(?2, ?1, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
// ?6 is max(id) + 1, what SQLite would pick, unless the rows with the highest ids were deleted
// and that would reuse an id at or below the observer's floor.
constexpr const char* kInsertReading =
    "INSERT INTO readings(id, series_id, ts, value, ts_source, received_offset) "
    "VALUES(?6, ?1, ?2, ?3, ?4, ?5)";

InputCounterDelta DeltaFromBatch(const IngestBatch& batch) {
  InputCounterDelta delta;
  delta.duplicates = batch.duplicates;
  delta.frames_lost = batch.frames_lost;
  delta.fields_ignored = batch.fields_ignored;
  delta.last_frame_at = batch.last_frame_at;
  for (const auto& [reason, n] : batch.rejected) delta.rejected[std::string(ToString(reason))] += n;
  return delta;
}

const std::string& StoreFullName() {
  static const std::string kName(ToString(core::RejectReason::kStoreFull));
  return kName;
}

// Clears the series interned by a transaction that did not commit.
class SeriesRollbackGuard {
 public:
  explicit SeriesRollbackGuard(Store::Impl& impl) : impl_(impl) {}
  ~SeriesRollbackGuard() {
    if (!committed_) impl_.ForgetSeriesSince(0);
    impl_.new_series.clear();
  }
  SeriesRollbackGuard(const SeriesRollbackGuard&) = delete;
  SeriesRollbackGuard& operator=(const SeriesRollbackGuard&) = delete;
  void Committed() { committed_ = true; }

 private:
  Store::Impl& impl_;
  bool committed_ = false;
};

}  // namespace

core::Expected<std::int64_t> Store::Impl::SeriesId(const core::Reading& reading) {
  std::string key = reading.device + '\n' + reading.metric;
  if (auto it = series_ids.find(key); it != series_ids.end()) return it->second;
  core::Expected<CachedStatement> find =
      db->Cached("SELECT id FROM series WHERE device = ?1 AND metric = ?2");
  if (!find) return find.error();
  core::Status status = (*find)->Bind(1, reading.device);
  if (status) status = (*find)->Bind(2, reading.metric);
  if (!status) return status.error();
  core::Expected<bool> row = (*find)->Step();
  if (!row) return row.error().Wrap("look up series " + reading.device + "/" + reading.metric);
  std::int64_t id = 0;
  if (*row) {
    id = (*find)->ColumnInt64(0);
  } else {
    core::Expected<CachedStatement> insert =
        db->Cached("INSERT INTO series(device, metric) VALUES(?1, ?2)");
    if (!insert) return insert.error();
    status = (*insert)->Bind(1, reading.device);
    if (status) status = (*insert)->Bind(2, reading.metric);
    if (status) status = (*insert)->Run();
    if (!status) return status.error().Wrap("add series " + reading.device + "/" + reading.metric);
    id = db->last_insert_rowid();
    new_series.push_back(key);
  }
  series_ids.emplace(std::move(key), id);
  return id;
}

void Store::Impl::ForgetSeriesSince(std::size_t mark) {
  for (std::size_t i = mark; i < new_series.size(); ++i) series_ids.erase(new_series[i]);
  new_series.resize(std::min(mark, new_series.size()));
}

core::Status Store::Impl::InsertFrame(const IngestFrame& frame, core::TimeUs received_at,
                                      std::optional<std::int64_t> held_boot, FrameInsert& counts) {
  const bool held = frame.held_boot_us.has_value() && held_boot.has_value();
  for (const core::Reading& reading : frame.readings) {
    core::Expected<std::int64_t> series = SeriesId(reading);
    if (!series) return series.error();
    const std::int64_t id = std::max(last_id, id_floor) + 1;
    core::Expected<CachedStatement> key = db->Cached(kInsertKey);
    if (!key) return key.error();
    core::Status status = (*key)->Bind(1, *series);
    if (status) status = (*key)->Bind(2, reading.ts);
    if (status) status = (*key)->Bind(3, reading.value);
    if (status) status = (*key)->Bind(4, id);
    if (status) status = (*key)->Bind(5, std::int64_t{held ? kKeyHeld : kKeyInWindow});
    if (status) status = (*key)->Run();
    if (!status) return status;
    if (db->changes() == 0) {
      ++counts.duplicates;  // pending, earlier in this batch, or in the late window
      continue;
    }
    core::Expected<CachedStatement> insert = db->Cached(kInsertReading);
    if (!insert) return insert.error();
    status = (*insert)->Bind(1, *series);
    if (status) status = (*insert)->Bind(2, reading.ts);
    if (status) status = (*insert)->Bind(3, reading.value);
    if (status) {
      status =
          (*insert)->Bind(4, held ? kHeldTsSource : static_cast<std::int64_t>(reading.ts_source));
    }
    if (status) status = (*insert)->Bind(5, received_at - reading.ts);
    if (status) status = (*insert)->Bind(6, id);
    if (status) status = (*insert)->Run();
    if (!status) return status;
    ++counts.accepted;
    last_id = id;
    if (held) {
      status = RecordHeld(*db, id, *held_boot, *frame.held_boot_us);
      if (!status) return status;
    } else {
      ++counts.pending;
      if (reading.ts_source == core::TsSource::kAgentUnsynced) ++counts.unsynced;
      if (pending_floor && reading.ts < *pending_floor) pending_floor = reading.ts;
    }
  }
  return core::Ok();
}

core::Expected<CommitResult> Store::Impl::CommitOnce(const IngestBatch& batch) {
  CommitResult result;
  result.frame_stored.assign(batch.frames.size(), false);
  result.frames.assign(batch.frames.size(), FrameCommit{});
  InputCounterDelta delta = DeltaFromBatch(batch);
  std::int64_t pending = 0;
  std::int64_t unsynced = 0;
  core::TimeUs received_at = clock->NowUs();

  SeriesRollbackGuard series_guard(*this);
  core::Expected<Transaction> txn = Transaction::Begin(*db);
  if (!txn) return txn.error().Wrap("begin commit");
  // Restored to the hard limit on every exit so that other writers (deletes) keep the reserve.
  struct LimitRestore {
    Impl& impl;
    ~LimitRestore() { (void)impl.SetPageLimit(impl.HardLimitPages()); }
  } limit_restore{*this};
  core::Status status = SetPageLimit(InsertLimitPages());
  if (!status) return status.error();
  // Rows at or below this id were pending before the batch; only those may be dropped for room.
  core::Expected<std::optional<std::int64_t>> max_before =
      db->QueryInt64("SELECT max(id) FROM readings");
  if (!max_before) return max_before.error();
  std::int64_t droppable_max_id = max_before->value_or(0);
  last_id = droppable_max_id;
  id_floor = 0;
  if (observer != nullptr) {
    core::Expected<std::int64_t> floor = observer->IdFloor(*db);
    if (!floor) return floor.error();
    id_floor = *floor;
  }
  // After a frame's savepoint rolled back or rows were dropped, the highest id may be lower.
  auto reload_last_id = [&]() -> core::Status {
    core::Expected<std::optional<std::int64_t>> max_id =
        db->QueryInt64("SELECT max(id) FROM readings");
    if (!max_id) return max_id.error();
    last_id = max_id->value_or(0);
    return core::Ok();
  };
  // Frames stamped while the clock was not synchronised are held in this boot (§10).
  std::optional<std::int64_t> held_boot;
  if (std::any_of(batch.frames.begin(), batch.frames.end(),
                  [](const IngestFrame& f) { return f.held_boot_us.has_value(); })) {
    core::Expected<std::int64_t> boot = InternBoot(*db, clock->BootId());
    if (!boot) return boot.error();
    held_boot = *boot;
  }

  for (std::size_t f = 0; f < batch.frames.size(); ++f) {
    const IngestFrame& frame = batch.frames[f];
    while (true) {
      std::size_t series_mark = new_series.size();
      FrameInsert counts;
      core::Expected<bool> room = HasRoomFor(frame.readings.size());
      if (!room) return room.error();
      std::optional<Savepoint> savepoint;
      if (*room) {
        core::Expected<Savepoint> begun = Savepoint::Begin(*db);
        if (!begun) return begun.error();
        savepoint.emplace(std::move(*begun));
        status = InsertFrame(frame, received_at, held_boot, counts);
        if (status && frame.seq && !frame.readings.empty()) {
          status = RecordFrameSeq(*db, batch.input, frame.readings.front().device, *frame.seq);
        }
      } else {
        status = core::MakeError(core::Errc::kFull, "store budget (max_mb) reached");
      }
      if (status) {
        status = savepoint->Release();
        if (!status) return status.error();
        result.frame_stored[f] = true;
        result.frames[f] = FrameCommit{true, false, counts.accepted, counts.duplicates};
        result.accepted += counts.accepted;
        result.duplicates += counts.duplicates;
        if (frame.held_boot_us) result.held += counts.accepted;
        pending += counts.pending;
        unsynced += counts.unsynced;
        ++delta.frames;
        break;
      }
      if (savepoint) savepoint->Rollback();
      ForgetSeriesSince(series_mark);
      if (!db->autocommit()) {
        if (core::Status reloaded = reload_last_id(); !reloaded) return reloaded.error();
      }
      // Anything but a full store, or a failure that took the whole transaction with it, is
      // for the caller (or the disk-full handling in Store::Commit).
      if (status.error().code != core::Errc::kFull || db->autocommit()) return status.error();
      if (options.on_full == OnFull::kDropOldest) {
        core::Expected<std::int64_t> dropped = DropOldest(droppable_max_id, kDropChunk);
        if (!dropped) return dropped.error();
        status = reload_last_id();
        if (status) status = SetPageLimit(InsertLimitPages());
        if (!status) return status.error();
        if (*dropped > 0) {
          result.dropped += *dropped;
          continue;  // retry the frame with the room just made
        }
      }
      ++result.refused_frames;
      result.frames[f].refused = true;
      ++delta.rejected[StoreFullName()];
      break;
    }
  }

  // Held readings are counted when released from an ended boot; `unsynced` were stamped
  // unsynchronised elsewhere (no boot time came with them) and are pending already.
  delta.readings = result.accepted;
  delta.duplicates += result.duplicates;
  status = AddInputCounters(*db, batch.input, delta);
  if (status) status = AddGlobalCounter(*db, kClockUnsyncedCounter, unsynced);
  if (status && observer != nullptr)
    status = observer->Stored(*db, static_cast<std::size_t>(pending), CommitRoomBytes());
  if (status) status = txn->Commit();
  if (!status) return status.error();
  series_guard.Committed();
  return result;
}

core::Expected<CommitResult> Store::Impl::RefuseBatch(const IngestBatch& batch) {
  CommitResult result;
  result.frame_stored.assign(batch.frames.size(), false);
  result.frames.assign(batch.frames.size(), FrameCommit{false, true, 0, 0});
  result.refused_frames = static_cast<std::int64_t>(batch.frames.size());
  InputCounterDelta delta = DeltaFromBatch(batch);
  delta.rejected[StoreFullName()] += result.refused_frames;
  core::Expected<Transaction> txn = Transaction::Begin(*db);
  if (!txn) return txn.error();
  core::Status status = AddInputCounters(*db, batch.input, delta);
  if (status) status = txn->Commit();
  if (!status) return status.error();
  return result;
}

core::Expected<CommitResult> Store::Commit(const IngestBatch& batch) {
  Impl& impl = *impl_;
  impl.MaybeRecoverDisk();
  std::int64_t dropped_between_attempts = 0;
  for (int attempt = 0;; ++attempt) {
    core::Expected<CommitResult> result = impl.CommitOnce(batch);
    if (result) {
      result->dropped += dropped_between_attempts;
      return result;
    }
    // The budget is normally absorbed frame by frame inside CommitOnce. What arrives here as
    // kFull is a full disk (or a full store met by the commit hook or at COMMIT): SQLite rolled
    // the batch back and nothing of it was written. OnDiskFull pins the database to the pages
    // it already has; then make room or refuse (frame by frame again on the retry), and say so
    // in the counters.
    if (result.error().code != core::Errc::kFull) return result.error().Wrap("commit batch");
    impl.OnDiskFull();
    if (impl.options.on_full == OnFull::kDropOldest && attempt < kMaxFullRetries) {
      std::int64_t readings = 0;
      for (const IngestFrame& frame : batch.frames) {
        readings += static_cast<std::int64_t>(frame.readings.size());
      }
      core::Expected<Transaction> txn = Transaction::Begin(*impl.db);
      if (!txn) return txn.error().Wrap("make room in a full store");
      core::Expected<std::int64_t> dropped =
          impl.DropOldest(INT64_MAX, std::max(kDropChunk, readings));
      core::Status status = dropped ? txn->Commit() : core::Status(dropped.error());
      if (!status) return status.error().Wrap("make room in a full store");
      if (*dropped > 0) {
        dropped_between_attempts += *dropped;
        continue;
      }
    }
    core::Expected<CommitResult> refused = impl.RefuseBatch(batch);
    if (!refused) return result.error().Wrap("commit batch (store full, refusal not recorded)");
    refused->dropped += dropped_between_attempts;
    return refused;
  }
}

}  // namespace fieldsync::store
