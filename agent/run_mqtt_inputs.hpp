#pragma once
// RunMqttInputs: the [[mqtt]] inputs of `fieldsync run` as one ServiceComponent. Each input is a
// drivers::MqttInput with its own FrameDecoder (its own agent stamps), feeding the service's
// grouped-commit sink under the input's name.
//
// Apply matches inputs by name like the serial inputs (InputChangePlan): a new name is created
// and started, a missing one stopped, a changed one (any setting, the password included, or a
// change of [metrics] calibration or [clock] trust_unsynced) stopped then started again, and an
// unchanged one keeps its connection untouched. Every new client is built (and its settings
// validated) before a running one is touched, so a refused configuration changes nothing.
// A restarted input reconnects with the same client_id, so the broker's session (and whatever it
// queued meanwhile) carries over.
//
// Stop bounds each input's disconnect by `stop_timeout` (1 s by default, inside the service's
// 5 s shutdown budget) and keeps the stopped inputs allocated until the process exits: Stop is
// for shutdown, when a message callback waiting for the loop would never let an MqttInput
// destructor return. Inputs stopped by a reload are destroyed on a detached thread instead,
// while the loop keeps running and completes any such callback. A message held by ack = "durable"
// at that moment is never acknowledged unless it became durable: MqttInput leaves its connection
// open and the broker redelivers it after the process is gone (see drivers/mqtt_input.hpp). For
// that, the io_context and the sink must outlive this object until the process exits; RunService
// arranges it.
//
// Event loop thread only.

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "agent/run_component.hpp"
#include "agent/run_serial_inputs.hpp"  // InputChangePlan
#include "core/clock.hpp"
#include "core/metric_spec.hpp"
#include "drivers/frame_sink.hpp"
#include "drivers/input_specs.hpp"
#include "drivers/mqtt_input.hpp"

namespace fieldsync::agent {

// Same scale and offset for the same metric names: all a decoder takes from [metrics].
bool SameCalibration(const std::map<std::string, core::MetricSpec>& a,
                     const std::map<std::string, core::MetricSpec>& b);

bool SameMqttSettings(const drivers::MqttSpec& a, const drivers::MqttSpec& b);

// `decoding_changed`: calibration or clock trust changed, which every decoder depends on.
InputChangePlan PlanMqttChanges(const std::vector<drivers::MqttSpec>& running,
                                const std::vector<drivers::MqttSpec>& wanted,
                                bool decoding_changed);

class RunMqttInputs final : public ServiceComponent {
 public:
  // `clock` and `sink` must outlive this (see above for `io`). `options` go to every input
  // (tests shorten the reconnect backoff).
  RunMqttInputs(boost::asio::io_context& io, core::Clock& clock, drivers::FrameSink& sink,
                drivers::MqttInputOptions options = DefaultOptions());
  ~RunMqttInputs() override;
  RunMqttInputs(const RunMqttInputs&) = delete;
  RunMqttInputs& operator=(const RunMqttInputs&) = delete;

  std::string_view kind() const override { return "mqtt"; }
  core::Status Apply(const Config& config) override;
  // MqttInput has no pause: its messages keep reaching the sink until Stop, which the service
  // calls right after the last grouped commit.
  void PauseIntake() override {}
  void Stop() override;

  // Names of the running inputs, sorted.
  std::vector<std::string> names() const;

  static drivers::MqttInputOptions DefaultOptions();

 private:
  struct Running {
    drivers::MqttSpec spec;
    std::unique_ptr<drivers::MqttInput> input;
  };

  boost::asio::io_context& io_;
  core::Clock& clock_;
  drivers::FrameSink& sink_;
  drivers::MqttInputOptions options_;
  std::map<std::string, Running> inputs_;
  // Decoders hold a reference to the calibration they were built with, and an input stopped
  // while a message was held keeps its decoder alive after it is dropped here. So every
  // calibration handed out stays allocated as long as this object (one per reload that changed
  // it).
  std::vector<std::unique_ptr<const std::map<std::string, core::MetricSpec>>> calibrations_;
  bool trust_unsynced_ = false;
};

}  // namespace fieldsync::agent
