#pragma once
// Private to the store: the state behind Store, shared by store.cpp (open, read, delete) and
// commit.cpp (the write path). Not part of the contract.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "store/budget.hpp"
#include "store/disk_reserve.hpp"
#include "store/outbox_observer.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "store/wal_limit.hpp"

namespace fieldsync::store {

// Readings deleted per step when making room (drop_oldest): enough to free whole pages of the
// table and of the key index, small enough that little more is lost than needed.
inline constexpr std::int64_t kDropChunk = 256;
// Attempts of a whole batch after the disk (not the budget) turned out to be full.
inline constexpr int kMaxFullRetries = 8;
// Pages a delete may add beyond the pinned page count of a full disk.
inline constexpr std::int64_t kDeletePages = 4;
// Room a frame is assumed to need: a fixed b-tree path plus a generous size per reading.
inline constexpr std::int64_t kFramePages = 4;
inline constexpr std::int64_t kBytesPerReading = 160;

struct Store::Impl {
  Impl(core::Clock& clock_ref, std::string reserve_path)
      : clock(&clock_ref), reserve(std::move(reserve_path)) {}

  std::unique_ptr<Database> db;
  std::unique_ptr<WalLimit> wal;  // after db: unhooked before the connection closes
  core::Clock* clock;
  StoreOptions options;
  StoreBudget budget;
  std::string db_path;
  std::string instance_id;
  DiskReserve reserve;
  // Set after a disk-full event: the database's page count then, its new ceiling until the
  // reserve can be taken again (space came back).
  std::optional<std::int64_t> pinned_pages;
  OutboxObserver* observer = nullptr;  // borrowed (Store::SetObserver)
  // Within one CommitOnce: the highest id in `readings` so far, and the observer's floor that
  // a new id must exceed.
  std::int64_t last_id = 0;
  std::int64_t id_floor = 0;
  // A ts at or below the oldest pending (not held) reading's, so that Stats finds that reading
  // without stepping over the late window's older keys (reading_keys holds both); nullopt:
  // unknown, found from the outbox. Lowered by every insert on this connection (a rolled-back
  // one only costs a longer search), raised by Stats, forgotten by paths that move keys
  // (release, retry). Another connection's late insert below it goes unseen until the outbox
  // has nothing at or above the floor.
  std::optional<core::TimeUs> pending_floor;
  // The ts of the oldest pending (not held) reading, nullopt when none. Moves pending_floor.
  core::Expected<std::optional<core::TimeUs>> OldestPendingTs();

  // (device '\n' metric) -> series id. Ids interned inside an open transaction are listed in
  // new_series and forgotten if it rolls back, so the cache never names a row that is not there.
  std::unordered_map<std::string, std::int64_t> series_ids;
  std::vector<std::string> new_series;

  // PRAGMA max_page_count: InsertLimitPages() while readings go in, HardLimitPages() otherwise.
  std::int64_t InsertLimitPages() const;
  std::int64_t HardLimitPages() const;
  // What one commit may add to the WAL: half its allowance, since the hook checkpoints at the
  // other half (wal_limit.hpp). Then the WAL never holds more new pages than the reserve, sized
  // to the allowance, lets a checkpoint of a full disk grow the database by.
  std::int64_t CommitRoomBytes() const;
  core::Status SetPageLimit(std::int64_t pages);
  // Whether a frame of `readings` readings fits under InsertLimitPages().
  core::Expected<bool> HasRoomFor(std::size_t readings);
  // What InsertFrame did with one frame's readings.
  struct FrameInsert {
    std::int64_t accepted = 0;    // stored (pending or held)
    std::int64_t duplicates = 0;  // their key was known
    std::int64_t pending = 0;     // stored and pending (not held)
    std::int64_t unsynced = 0;    // of those, stamped by the agent while unsynchronised
  };
  // Inserts one frame's readings (no savepoint of its own). A held frame (held_boot_us set)
  // needs `held_boot`, its boot's clock_boots row: its readings are stored held, not pending.
  core::Status InsertFrame(const IngestFrame& frame, core::TimeUs received_at,
                           std::optional<std::int64_t> held_boot, FrameInsert& counts);
  core::Expected<std::int64_t> SeriesId(const core::Reading& reading);
  void ForgetSeriesSince(std::size_t mark);
  // What a DELETE FROM readings returns for CollectRemoved: append it to the statement.
  static constexpr const char* kRemovedColumns = " RETURNING id, series_id, ts, ts_source";
  // Steps `remove`, a DELETE FROM readings ending in kRemovedColumns, to its end and appends
  // what it deleted to `removed`.
  static core::Status CollectRemoved(Statement& remove, std::vector<RemovedReading>& removed);
  // Readings just deleted: a held one's held_readings row goes, and they are handed to the
  // observer, which keeps the keys of its late window; without one, every key of theirs goes.
  // Every path that deletes from `readings` ends here, so that no trigger runs per row.
  core::Status ForgetRemoved(const std::vector<RemovedReading>& removed);
  // Deletes the readings with these exact ids and forgets them (ForgetRemoved). Returns how
  // many there were. REQUIRES: a transaction is open, and Settle covered the ids.
  core::Expected<std::int64_t> RemoveReadings(const std::vector<std::int64_t>& ids);
  // Deletes up to `count` oldest readings with id <= max_id and counts them as dropped. Leaves
  // the page limit at HardLimitPages(). REQUIRES: a transaction is open.
  core::Expected<std::int64_t> DropOldest(std::int64_t max_id, std::int64_t count);
  // After SQLITE_FULL/ENOSPC: frees the reserve, checkpoints and truncates the WAL, and pins the
  // database to the pages it has.
  void OnDiskFull();
  // While the reserve is out: takes it back and lifts the pin once the disk has room again.
  void MaybeRecoverDisk();

  core::Expected<CommitResult> CommitOnce(const IngestBatch& batch);
  // Records a batch refused as a whole (reject_new, or a disk that stays full): every frame is
  // counted as store_full, the batch's own counters are kept.
  core::Expected<CommitResult> RefuseBatch(const IngestBatch& batch);
};

}  // namespace fieldsync::store
