// What the store does when it is full: the max_mb budget (PRAGMA max_page_count) and a full
// disk (SQLITE_FULL / ENOSPC). See docs/store.md for the policy as a whole.

#include <algorithm>
#include <string>

#include "store/counters.hpp"
#include "store/store_impl.hpp"

namespace fieldsync::store {

std::int64_t Store::Impl::InsertLimitPages() const {
  return pinned_pages ? std::min(budget.insert_limit_pages, *pinned_pages)
                      : budget.insert_limit_pages;
}

std::int64_t Store::Impl::HardLimitPages() const {
  // On a full disk a delete may still need a page or two (b-tree rebalancing, a freelist trunk);
  // they come from the room the reserve gave back.
  return pinned_pages ? std::min(budget.hard_limit_pages, *pinned_pages + kDeletePages)
                      : budget.hard_limit_pages;
}

std::int64_t Store::Impl::CommitRoomBytes() const {
  return wal->allowance_pages() / 2 * budget.page_size;
}

core::Expected<bool> Store::Impl::HasRoomFor(std::size_t readings) {
  // SQLite rolls the whole transaction back when an INSERT into a table with an index meets
  // max_page_count (it has no statement journal to undo half a row), so the budget is checked
  // before each frame instead: free pages below the limit plus pages on the freelist, against a
  // generous estimate of what the frame needs (row + key entry, index pages half full after
  // splits, plus a b-tree path). Both PRAGMAs are answered from the page cache.
  core::Expected<CachedStatement> count = db->Cached("PRAGMA page_count");
  if (!count) return count.error();
  core::Expected<bool> row = (*count)->Step();
  if (!row) return row.error();
  std::int64_t pages = *row ? (*count)->ColumnInt64(0) : 0;
  std::int64_t room = InsertLimitPages() - pages;
  std::int64_t needed =
      kFramePages + static_cast<std::int64_t>(readings) * kBytesPerReading / budget.page_size;
  if (room >= needed) return true;
  core::Expected<CachedStatement> free_list = db->Cached("PRAGMA freelist_count");
  if (!free_list) return free_list.error();
  row = (*free_list)->Step();
  if (!row) return row.error();
  return room + (*row ? (*free_list)->ColumnInt64(0) : 0) >= needed;
}

core::Status Store::Impl::SetPageLimit(std::int64_t pages) {
  // The value is an integer we computed; PRAGMA arguments cannot be bound.
  core::Expected<CachedStatement> pragma =
      db->Cached("PRAGMA max_page_count = " + std::to_string(pages));
  if (!pragma) return pragma.error();
  return (*pragma)->Run();
}

core::Expected<std::int64_t> Store::Impl::DropOldest(std::int64_t max_id, std::int64_t count) {
  core::Status status = SetPageLimit(HardLimitPages());
  if (!status) return status.error();
  if (observer != nullptr) {
    // The rows about to go are the `count` oldest: settle up to the newest of them.
    core::Expected<CachedStatement> newest = db->Cached(
        "SELECT max(id) FROM (SELECT id FROM readings WHERE id <= ?1 ORDER BY id LIMIT ?2)");
    if (!newest) return newest.error();
    status = (*newest)->Bind(1, max_id);
    if (status) status = (*newest)->Bind(2, count);
    core::Expected<bool> row = status ? (*newest)->Step() : core::Expected<bool>(status.error());
    if (!row) return row.error();
    const std::int64_t through = *row ? (*newest)->ColumnInt64(0) : 0;
    status = observer->Settle(*db, through);
    if (!status) return status.error().Wrap("aggregate readings before dropping them");
  }
  std::vector<RemovedReading> removed;
  {
    core::Expected<CachedStatement> drop =
        db->Cached(std::string("DELETE FROM readings WHERE id IN "
                               "(SELECT id FROM readings WHERE id <= ?1 ORDER BY id LIMIT ?2)") +
                   kRemovedColumns);
    if (!drop) return drop.error();
    status = (*drop)->Bind(1, max_id);
    if (status) status = (*drop)->Bind(2, count);
    if (status) status = CollectRemoved(**drop, removed);
  }
  if (status) status = ForgetRemoved(removed);
  if (!status) return status.error().Wrap("drop oldest readings");
  const auto dropped = static_cast<std::int64_t>(removed.size());
  status = AddGlobalCounter(*db, kDroppedCounter, dropped);
  if (!status) return status.error();
  return dropped;
}

void Store::Impl::OnDiskFull() {
  reserve.Release();
  // Copy the WAL into the database (growing it into the room just freed) and truncate it, so
  // that the WAL starts again from nothing. Failure changes nothing; the next attempt tells.
  (void)wal->Truncate();
  (void)wal->AdaptToFreeSpace();
  // From now on the database only reuses pages it already has (dropped and uploaded readings
  // free them): a checkpoint never again needs the disk to grow, only the WAL does, and it
  // fits in the space its own truncation gives back.
  core::Expected<std::optional<std::int64_t>> pages = db->QueryInt64("PRAGMA page_count");
  if (pages && *pages) pinned_pages = **pages;
}

void Store::Impl::MaybeRecoverDisk() {
  if (reserve.held()) return;
  // Only while the reserve is out, i.e. after a disk-full event: one statvfs per commit.
  std::optional<std::int64_t> free_bytes = FreeBytes(reserve.path());
  if (!free_bytes || *free_bytes < 2 * reserve.bytes()) return;
  if (!reserve.Take()) return;
  pinned_pages.reset();
  (void)wal->AdaptToFreeSpace();
}

}  // namespace fieldsync::store
