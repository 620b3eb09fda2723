#pragma once
// SyncSchedule: when the service's sync loop runs its next cycle, and what `last_sync` (§9) says.
// Pure: it is told the time (CLOCK_BOOTTIME microseconds, which never jump) and each cycle's
// report, and answers with the instant of the next cycle. The loop that owns the Uploader calls
// NextCycleAt, sleeps until then or until Wake, runs a cycle and calls Record.
//   ok with more pending -> at once; ok otherwise -> after interval_s;
//   retry or error -> after the capped full-jitter backoff (Backoff), never sooner;
//   Wake (a batch filled up locally) -> at once, unless backing off.
// Not thread-safe: the loop's thread owns it.

#include <cstdint>
#include <optional>
#include <string>

#include "core/time.hpp"
#include "sync/backoff.hpp"
#include "sync/uploader.hpp"

namespace fieldsync::sync {

// The `last_sync` object of the status document.
struct LastSync {
  std::optional<core::TimeUs> at;  // wall-clock time the last cycle ended (null: none yet)
  bool ok = false;
  std::string error;  // the last failed cycle's message while failing; "" after a success
  std::int64_t inserted = 0;
  std::int64_t skipped = 0;
};

class SyncSchedule {
 public:
  SyncSchedule(std::int64_t interval_s, Backoff backoff);

  // The boot-time instant the next cycle is due (now or in the past: run it).
  core::TimeUs NextCycleAt() const { return next_at_; }
  // A batch filled up: run soon, unless the remote is being given time to recover.
  void Wake(core::TimeUs boot_now);
  // After a cycle: `boot_now` schedules, `wall_now` is what status shows.
  void Record(const CycleReport& report, core::TimeUs boot_now, core::TimeUs wall_now);

  const LastSync& last_sync() const { return last_; }
  bool backing_off() const { return backing_off_; }

 private:
  core::TimeUs interval_us_;
  Backoff backoff_;
  core::TimeUs next_at_ = 0;
  bool backing_off_ = false;
  LastSync last_;
};

}  // namespace fieldsync::sync
