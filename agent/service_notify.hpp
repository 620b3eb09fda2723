#pragma once
// ServiceNotify: systemd's notify protocol for a Type=notify unit with WatchdogSec= (§11).
// Outside systemd (NOTIFY_SOCKET unset) every call does nothing, so `run` behaves the same in a
// terminal. Thread-safe (sd_notify sends one datagram per call).

#include <chrono>
#include <optional>
#include <string>

namespace fieldsync::agent {

class ServiceNotify {
 public:
  // Reads NOTIFY_SOCKET, and WATCHDOG_USEC/WATCHDOG_PID through sd_watchdog_enabled.
  static ServiceNotify FromEnvironment();

  bool enabled() const { return enabled_; }
  // How often to send WATCHDOG=1: half of WATCHDOG_USEC, so one late tick is not fatal.
  // nullopt when the unit has no watchdog (or it is meant for another pid).
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

  void Ready(const std::string& status) const;   // READY=1 + STATUS=
  void Reloading() const;                        // RELOADING=1
  void Stopping() const;                         // STOPPING=1
  void Watchdog() const;                         // WATCHDOG=1
  void Status(const std::string& status) const;  // STATUS=

 private:
  void Send(const std::string& state) const;

  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace fieldsync::agent
