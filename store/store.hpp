#pragma once
// Store: the local SQLite outbox at <state_dir>/fieldsync.db (§3). Readings enter through
// Commit (grouped, one transaction), leave through OldestPending + DeleteUploaded, and every loss
// is counted. Not thread-safe: one thread (the agent's event loop or a command) owns a Store.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/expected.hpp"
#include "core/reading.hpp"
#include "core/reject_reason.hpp"
#include "store/clock_hold.hpp"
#include "store/outbox_observer.hpp"
#include "store/quarantine.hpp"
#include "store/store_options.hpp"

namespace fieldsync::store {

class Database;

// One decoded frame: all of its readings are stored, or none (all-or-nothing per frame).
struct IngestFrame {
  IngestFrame() = default;
  IngestFrame(std::vector<core::Reading> frame_readings,  // NOLINT: braced init reads naturally
              std::optional<core::TimeUs> held_boot = std::nullopt)
      : readings(std::move(frame_readings)), held_boot_us(held_boot) {}

  std::vector<core::Reading> readings;
  // Set when the agent stamped the frame while the clock was not synchronised (§10): the
  // CLOCK_BOOTTIME of that stamp. Its readings are then held (clock_hold.hpp) in the current
  // boot (Clock::BootId at commit; a reboot ends the process, so that is the stamp's boot).
  std::optional<core::TimeUs> held_boot_us;
  // The frame's seq when its input tracks seqs (serial): recorded with the frame in the seq
  // window (seq_window.hpp) so that a resend after a restart is still known.
  std::optional<std::uint32_t> seq;
};

// What one input hands to Commit: accepted frames plus the counts of what it already rejected.
struct IngestBatch {
  std::string input;  // the input's name ("arduino1", "broker", "http", "ingest")
  std::vector<IngestFrame> frames;
  std::map<core::RejectReason, std::int64_t> rejected;  // rejections seen before the store
  std::int64_t duplicates = 0;   // duplicates found before the store (seq resends)
  std::int64_t frames_lost = 0;  // seq gaps
  std::int64_t fields_ignored = 0;
  std::optional<core::TimeUs> last_frame_at;
};

// What became of one frame of a Commit. A stored frame's accepted + duplicates is its reading
// count; a refused frame has both 0.
struct FrameCommit {
  bool stored = false;          // durable: its new readings stored (or all of them were duplicates)
  bool refused = false;         // refused with store_full (the budget or the disk); nothing stored
  std::int64_t accepted = 0;    // readings of this frame newly stored
  std::int64_t duplicates = 0;  // readings of this frame dropped as duplicates
};

// Outcome of one Commit, per frame and in total.
struct CommitResult {
  std::int64_t accepted = 0;        // readings newly stored
  std::int64_t duplicates = 0;      // readings dropped as duplicates of stored/late-window ones
  std::int64_t dropped = 0;         // older pending readings deleted to make room (drop_oldest)
  std::int64_t refused_frames = 0;  // frames refused with store_full (reject_new)
  std::int64_t held = 0;            // of `accepted`: held until the clock synchronises (§10)
  std::vector<bool> frame_stored;   // per frame of the batch: durable (stored or all duplicates)
  std::vector<FrameCommit> frames;  // per frame of the batch, in order (same size as the batch)
};

// The oldest pending readings, for one upload.
struct UploadBatch {
  std::vector<std::int64_t> ids;  // local row ids, same order as readings
  std::vector<core::Reading> readings;
  std::vector<core::TimeUs> received_at;
};

// Per-input counters as kept in the store (§9 `inputs`).
struct InputCounters {
  std::int64_t frames = 0;
  std::int64_t readings = 0;
  std::int64_t duplicates = 0;
  std::int64_t frames_lost = 0;
  std::int64_t fields_ignored = 0;
  std::map<std::string, std::int64_t> rejected;  // reason name -> count
  std::optional<core::TimeUs> last_frame_at;
};

struct StoreStats {
  std::int64_t pending_readings = 0;  // waiting for upload; held readings are not pending yet
  std::optional<core::TimeUs> oldest_pending_ts;
  std::int64_t held_readings = 0;  // stamped unsynchronised, waiting for the clock (§10)
  std::int64_t bytes = 0;          // database + WAL on disk
  std::int64_t max_bytes = 0;      // the max_mb budget
  std::int64_t dropped = 0;
  std::int64_t duplicates = 0;
  std::int64_t late = 0;
  std::int64_t quarantined = 0;     // rows in the quarantine now
  std::int64_t clock_unsynced = 0;  // readings released as agent_unsynced (§10)
  std::map<std::string, InputCounters> inputs;
};

class Store {
 public:
  // Opens or creates <state_dir>/fieldsync.db, migrating its schema forward. A store written by
  // a newer fieldsync is refused (kUnsupported) with both versions in the message.
  static core::Expected<std::unique_ptr<Store>> Open(const std::string& state_dir,
                                                     const StoreOptions& options,
                                                     core::Clock& clock);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Stores the batch in one transaction with the configured synchronous mode: when this returns
  // a value, every frame marked in frame_stored is durable. Duplicates of pending readings are
  // dropped and counted. When the budget is reached: drop_oldest deletes the oldest pending
  // readings (counted as dropped); reject_new refuses frames (counted as store_full).
  core::Expected<CommitResult> Commit(const IngestBatch& batch);

  // Up to `limit` pending readings with an id above `after_id`, oldest first (in insertion
  // order), so that a reader can walk the outbox batch by batch before deleting any of it.
  // Held readings are not pending: they are never handed out.
  core::Expected<UploadBatch> OldestPending(std::size_t limit, std::int64_t after_id = 0);
  // Deletes exactly these rows (by id) in one transaction; ids no longer present (dropped to
  // make room meanwhile) are skipped. Never deletes by range.
  // Invariant: called only after the remote COMMIT of the same rows returned.
  core::Status DeleteUploaded(const std::vector<std::int64_t>& ids);

  // Moves exactly these pending rows (by id) into the quarantine, with the remote's message and
  // SQLSTATE, in one transaction: they stop being pending (never uploaded, never dropped) and
  // are counted in StoreStats::quarantined. Ids no longer pending are skipped. Returns the number
  // of rows moved.
  core::Expected<std::int64_t> Quarantine(const std::vector<std::int64_t>& ids,
                                          const std::string& reason, const std::string& sqlstate);
  // Up to `limit` quarantined rows, oldest first.
  core::Expected<std::vector<QuarantinedReading>> ListQuarantined(std::size_t limit);
  // Moves the selected rows back to the outbox (as the newest pending readings) in one
  // transaction; a key already pending again keeps its pending reading. With dry_run nothing
  // changes and the counts say what would.
  core::Expected<QuarantineChange> RetryQuarantined(const QuarantineSelection& selection,
                                                    bool dry_run);
  // Deletes the selected rows in one transaction and counts them in the `quarantine_purged`
  // counter (a purge is a loss the store keeps a record of). dry_run as above.
  core::Expected<QuarantineChange> PurgeQuarantined(const QuarantineSelection& selection,
                                                    bool dry_run);

  // Releases held readings (§10, clock_hold.hpp) in one transaction, reading the clock once:
  // those of an earlier boot become agent_unsynced (counted in clock_unsynced); those of the
  // current boot are re-stamped from their boot time when the clock is synchronised, or, with
  // `trust_current_boot` ([clock] trust_unsynced), released with the time they were stamped
  // with as agent; otherwise they stay held. A re-stamped key already taken (pending, or in the
  // late window per the observer) moves forward 1 µs at a time until it is free: a held
  // reading is a real measurement, never a duplicate. Released readings go to the observer
  // (aggregates) in the same transaction. Without held readings this is one query.
  core::Expected<HeldRelease> ReleaseHeld(bool trust_current_boot = false);

  core::Expected<StoreStats> Stats();
  const std::string& instance_id() const;

  // The aggregates' view of the outbox (outbox_observer.hpp): told about every reading stored,
  // released, restored or about to leave, inside the same transaction; also the duplicate filter
  // of the late window. nullptr (the default): a bare outbox.
  void SetObserver(OutboxObserver* observer);

  // The connection, for code that keeps its own tables in the same store (aggregates). Its
  // writes outside Commit must use their own Transaction.
  Database& database();

  struct Impl;  // private to the store's sources (store/store_impl.hpp)

 private:
  Store() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fieldsync::store
