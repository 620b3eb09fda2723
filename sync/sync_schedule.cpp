#include "sync/sync_schedule.hpp"

#include <algorithm>

namespace fieldsync::sync {

SyncSchedule::SyncSchedule(std::int64_t interval_s, Backoff backoff)
    : interval_us_(std::max<std::int64_t>(interval_s, 0) * core::kMicrosPerSecond),
      backoff_(std::move(backoff)) {}

void SyncSchedule::Wake(core::TimeUs boot_now) {
  if (!backing_off_) next_at_ = std::min(next_at_, boot_now);
}

void SyncSchedule::Record(const CycleReport& report, core::TimeUs boot_now, core::TimeUs wall_now) {
  last_.at = wall_now;
  last_.ok = report.outcome == UploadOutcome::kOk;
  // Counts of a cycle that failed half-way still happened: the rows before it were committed.
  last_.inserted = report.inserted;
  last_.skipped = report.skipped;
  if (last_.ok) {
    last_.error.clear();
    backoff_.Reset();
    backing_off_ = false;
    next_at_ = report.more_pending ? boot_now : boot_now + interval_us_;
    return;
  }
  last_.error = report.message;
  backing_off_ = true;
  next_at_ = boot_now + backoff_.NextDelayMs() * 1000;
}

}  // namespace fieldsync::sync
