#pragma once
// OutboxObserver: what the store tells the aggregates (§4) about readings entering and leaving
// the outbox, always inside the store's own transaction, so that buckets kept in the same
// database stay exact whatever happens between two calls (a crash included).
//
// The contract the store keeps with its observer:
//   - every reading that leaves `readings` (upload, drop_oldest, quarantine) is settled first:
//     Settle(through) runs in the removing transaction, with `through` >= the ids removed; the
//     removed readings are then handed to Removed, in the same transaction, with their keys
//     still in reading_keys;
//   - held readings are released only after Settle of everything stored before them, and the
//     released ones are then handed to Released;
//   - rows put back into the outbox that are already aggregated (a quarantine retry) are
//     inserted after a Settle and announced by Restored, in the same transaction;
//   - reading ids only grow: a new reading's id is above IdFloor() even when the rows with the
//     highest ids were deleted (SQLite would otherwise reuse them).
// An error from any call rolls the store's whole transaction back.
//
// Ownership: the store borrows its observer (Store::SetObserver); it must outlive the store's use.

#include <cstdint>
#include <vector>

#include "core/expected.hpp"
#include "core/reading.hpp"
#include "core/time.hpp"

namespace fieldsync::store {

class Database;

// A reading just deleted from `readings`.
struct RemovedReading {
  std::int64_t id;
  std::int64_t series_id;
  core::TimeUs ts;
  bool held;  // stamped while the clock was unsynchronised, never aggregated
};

class OutboxObserver {
 public:
  virtual ~OutboxObserver() = default;

  // Commit stored `count` new pending readings (not held), the batch's last statement before
  // COMMIT. The observer may fold them now or at a later Settle. What it writes here should stay
  // within `room_bytes`: the WAL's share of the disk that one commit may take (wal_limit.hpp),
  // which on a nearly full disk is also what the disk reserve can give a checkpoint.
  virtual core::Status Stored(Database& db, std::size_t count, std::int64_t room_bytes) = 0;
  // Every pending reading with id <= `through` must be accounted for before this returns.
  virtual core::Status Settle(Database& db, std::int64_t through) = 0;
  // Readings just deleted from the outbox. The observer counts them and deletes their keys
  // (reading_keys), but for those it keeps; without an observer the store deletes every one.
  virtual core::Status Removed(Database& db, const std::vector<RemovedReading>& removed) = 0;
  // Held readings just released (final ts and ts_source), after a Settle of everything else.
  virtual core::Status Released(Database& db, const std::vector<core::Reading>& released) = 0;
  // The rows inserted since the last Settle are already aggregated: never fold them.
  virtual core::Status Restored(Database& db) = 0;
  // The lowest id a new reading may take minus one (0: no constraint).
  virtual core::Expected<std::int64_t> IdFloor(Database& db) = 0;
};

// Deletes the keys of these removed readings: what the store does without an observer.
core::Status ForgetKeys(Database& db, const std::vector<RemovedReading>& removed);

}  // namespace fieldsync::store
