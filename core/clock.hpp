#pragma once
// Clock: the one seam through which fieldsync reads time. Pass it by reference to whatever needs
// "now"; tests pass a FakeClock.

#include <atomic>
#include <mutex>
#include <string>

#include "core/time.hpp"

namespace fieldsync::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock UTC time (CLOCK_REALTIME).
  virtual TimeUs NowUs() = 0;
  // Time since boot, counting suspend (CLOCK_BOOTTIME); never jumps when the wall clock is set.
  virtual TimeUs BootTimeUs() = 0;
  // Identifies this boot; with BootTimeUs it names an instant even before the wall clock is right.
  virtual std::string BootId() = 0;
  // Whether the wall clock is synchronised to a time source (§10).
  virtual bool IsSynchronized() = 0;
};

// The operating system's clocks. Synchronisation comes from the kernel's adjtimex state (read
// only), falling back to systemd-timesyncd's /run/systemd/timesync/synchronized flag file. The
// answer is read again once kSyncRecheckUs of boot time has passed: it is asked for every frame
// the agent stamps, and two system calls per frame were 8 % of ingest's CPU (perf), while a clock
// gains or loses its time source on a scale of minutes. Thread-safe.
class SystemClock final : public Clock {
 public:
  static constexpr TimeUs kSyncRecheckUs = kMicrosPerSecond;

  TimeUs NowUs() override;
  TimeUs BootTimeUs() override;
  std::string BootId() override;
  bool IsSynchronized() override;

 private:
  std::atomic<TimeUs> sync_checked_at_{-kSyncRecheckUs};  // boot time of the last reading
  std::atomic<bool> synced_{false};
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimeUs now_us = kYear2000Us + 800'000'000 * kMicrosPerSecond) : now_(now_us) {}

  TimeUs NowUs() override;
  TimeUs BootTimeUs() override;
  std::string BootId() override;
  bool IsSynchronized() override;

  void Set(TimeUs now_us);
  void Advance(TimeUs delta_us);  // moves wall and boot time together
  void SetSynchronized(bool synced);
  void SetBootId(std::string boot_id);
  void SetWallOnly(TimeUs now_us);  // a wall-clock step (NTP correction) that boot time ignores

 private:
  std::mutex mu_;
  TimeUs now_;
  TimeUs boot_ = 10 * kMicrosPerSecond;
  bool synced_ = true;
  std::string boot_id_ = "00000000-0000-0000-0000-000000000001";
};

}  // namespace fieldsync::core
