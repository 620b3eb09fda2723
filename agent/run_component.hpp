#pragma once
// ServiceComponent: one part of `fieldsync run` that follows the configuration: all the inputs
// of one kind (serial, MQTT, HTTP), or the sync loop. The service keeps a list of them
// (MakeServiceComponents in run_service.cpp) and drives each through the same life cycle:
//
//   Apply(config)   at start and on every SIGHUP: start what the config adds, stop what it
//                   removes, restart what it changes, leave the rest running. On an error
//                   (e.g. an unsupported baud rate) nothing is changed and the error is returned,
//                   so the service keeps the old configuration.
//   PauseIntake()   at shutdown: take no new frames; keep connections so that acknowledgements
//                   of frames still being committed can be sent.
//   Stop()          at shutdown, after the last grouped commit: send what is owed, close all.
//
// All calls on the event loop thread. Before Apply and Stop the service commits everything
// queued (GroupedCommit::FlushAll), so a stopped input has nothing in flight.

#include <string_view>

#include "agent/config.hpp"
#include "core/expected.hpp"

namespace fieldsync::agent {

class ServiceComponent {
 public:
  virtual ~ServiceComponent() = default;
  virtual std::string_view kind() const = 0;
  virtual core::Status Apply(const Config& config) = 0;
  virtual void PauseIntake() = 0;
  virtual void Stop() = 0;
};

}  // namespace fieldsync::agent
