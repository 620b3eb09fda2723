#include "core/clock.hpp"

#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <fstream>

namespace fieldsync::core {
namespace {

TimeUs ReadClock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<TimeUs>(ts.tv_sec) * kMicrosPerSecond + static_cast<TimeUs>(ts.tv_nsec) / 1000;
}

bool ReadSynchronized() {
  timex tx{};  // modes = 0: read only, needs no privilege and no CAP_SYS_TIME
  int state = adjtimex(&tx);
  if (state >= 0 && state != TIME_ERROR) return true;
  // Kernel says unsynchronised (or cannot say); timesyncd may still have synced without touching
  // the kernel's flag.
  return access("/run/systemd/timesync/synchronized", F_OK) == 0;
}

}  // namespace

TimeUs SystemClock::NowUs() { return ReadClock(CLOCK_REALTIME); }

TimeUs SystemClock::BootTimeUs() { return ReadClock(CLOCK_BOOTTIME); }

std::string SystemClock::BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

bool SystemClock::IsSynchronized() {
  const TimeUs now = BootTimeUs();  // the vDSO: no system call
  if (now - sync_checked_at_.load(std::memory_order_acquire) < kSyncRecheckUs) {
    return synced_.load(std::memory_order_relaxed);
  }
  const bool synced = ReadSynchronized();
  synced_.store(synced, std::memory_order_relaxed);
  sync_checked_at_.store(now, std::memory_order_release);
  return synced;
}

TimeUs FakeClock::NowUs() {
  std::lock_guard lock(mu_);
  return now_;
}

TimeUs FakeClock::BootTimeUs() {
  std::lock_guard lock(mu_);
  return boot_;
}

std::string FakeClock::BootId() {
  std::lock_guard lock(mu_);
  return boot_id_;
}

bool FakeClock::IsSynchronized() {
  std::lock_guard lock(mu_);
  return synced_;
}

void FakeClock::Set(TimeUs now_us) {
  std::lock_guard lock(mu_);
  boot_ += now_us - now_;
  now_ = now_us;
}

void FakeClock::Advance(TimeUs delta_us) {
  std::lock_guard lock(mu_);
  now_ += delta_us;
  boot_ += delta_us;
}

void FakeClock::SetSynchronized(bool synced) {
  std::lock_guard lock(mu_);
  synced_ = synced;
}

void FakeClock::SetBootId(std::string boot_id) {
  std::lock_guard lock(mu_);
  boot_id_ = std::move(boot_id);
}

void FakeClock::SetWallOnly(TimeUs now_us) {
  std::lock_guard lock(mu_);
  now_ = now_us;
}

}  // namespace fieldsync::core
