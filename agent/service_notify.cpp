#include "agent/service_notify.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace fieldsync::agent {

ServiceNotify ServiceNotify::FromEnvironment() {
  ServiceNotify notify;
  const char* socket = std::getenv("NOTIFY_SOCKET");
  notify.enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  if (notify.enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    notify.watchdog_ = std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
  }
  return notify;
}

void ServiceNotify::Ready(const std::string& status) const { Send("READY=1\nSTATUS=" + status); }
void ServiceNotify::Reloading() const { Send("RELOADING=1"); }
void ServiceNotify::Stopping() const { Send("STOPPING=1"); }
void ServiceNotify::Watchdog() const { Send("WATCHDOG=1"); }
void ServiceNotify::Status(const std::string& status) const { Send("STATUS=" + status); }

void ServiceNotify::Send(const std::string& state) const {
  if (!enabled_) return;
  int rc = sd_notify(0, state.c_str());
  if (rc < 0) spdlog::warn("sd_notify failed: {}", std::strerror(-rc));
}

}  // namespace fieldsync::agent
