#pragma once
// ClockWatch: the part of `fieldsync run` that gives held readings their time (§10,
// store/clock_hold.hpp). A ServiceComponent on the event loop, using the loop's store handle:
//
//   - first check (on the first Apply): readings held in a boot that ended unsynchronised are
//     released as agent_unsynced and counted; this boot's held readings are re-stamped if the
//     clock is already synchronised;
//   - then every `period`: while the clock is synchronised (or [clock] trust_unsynced is set),
//     held readings of this boot are re-stamped (or released as stamped) and become pending,
//     aggregated in the same transaction. Checking while synchronised, not only on the
//     transition, also releases frames stamped just before the sync but committed after it.
//     While nothing is held a check is one count of an empty table.
//
// Not thread-safe: every call on the event loop thread. Borrows the loop, clock and store.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string_view>

#include "agent/run_component.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace fieldsync::agent {

class ClockWatch final : public ServiceComponent {
 public:
  static constexpr std::chrono::milliseconds kDefaultPeriod{1000};

  ClockWatch(boost::asio::io_context& io, core::Clock& clock, store::Store& store,
             std::chrono::milliseconds period = kDefaultPeriod);

  std::string_view kind() const override { return "clock"; }
  // Takes [clock] trust_unsynced; the first call runs a check and starts the timer.
  core::Status Apply(const Config& config) override;
  void PauseIntake() override {}
  void Stop() override;

  // One check, as the timer runs it (tests call it directly). Errors are returned (and logged
  // by the timer): the held readings stay held and the next check tries again.
  core::Expected<store::HeldRelease> Check();

 private:
  void Arm();

  boost::asio::steady_timer timer_;
  core::Clock& clock_;
  store::Store& store_;
  std::chrono::milliseconds period_;
  bool trust_unsynced_ = false;
  bool started_ = false;
  bool first_check_done_ = false;
};

}  // namespace fieldsync::agent
