#include "agent/clock_watch.hpp"

#include <spdlog/spdlog.h>

namespace fieldsync::agent {

ClockWatch::ClockWatch(boost::asio::io_context& io, core::Clock& clock, store::Store& store,
                       std::chrono::milliseconds period)
    : timer_(io), clock_(clock), store_(store), period_(period) {}

core::Status ClockWatch::Apply(const Config& config) {
  trust_unsynced_ = config.clock.trust_unsynced;
  if (!started_) {
    started_ = true;
    if (auto checked = Check(); !checked) spdlog::warn("clock: {}", checked.error().message);
    Arm();
  }
  return core::Ok();
}

void ClockWatch::Stop() {
  timer_.cancel();
  started_ = false;
}

core::Expected<store::HeldRelease> ClockWatch::Check() {
  // Unsynchronised, only the first check has anything to do (readings of ended boots); this
  // boot's held readings wait, and reading them all again every period would be wasted work.
  if (first_check_done_ && !trust_unsynced_ && !clock_.IsSynchronized()) {
    return store::HeldRelease{};
  }
  auto released = store_.ReleaseHeld(trust_unsynced_);
  if (!released) return released.error();
  first_check_done_ = true;
  if (released->unsynced > 0) {
    spdlog::warn(
        "clock: {} readings held in a boot that ended unsynchronised released with "
        "ts_source agent_unsynced",
        released->unsynced);
  }
  if (released->restamped > 0) {
    spdlog::info(
        "clock synchronised: {} held readings re-stamped ({} moved by 1 µs steps off a "
        "taken key)",
        released->restamped, released->bumped);
  }
  if (released->trusted > 0) {
    spdlog::info("clock: {} held readings released with their stamped time (trust_unsynced)",
                 released->trusted);
  }
  return released;
}

void ClockWatch::Arm() {
  timer_.expires_after(period_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto checked = Check(); !checked) spdlog::warn("clock: {}", checked.error().message);
    Arm();
  });
}

}  // namespace fieldsync::agent
