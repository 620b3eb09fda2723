#pragma once
// RunSerialInputs: the [[serial]] inputs of `fieldsync run` as one ServiceComponent.
// On each Apply, inputs are matched by name: a new name starts, a missing name stops, a changed
// port/baud/format/... (or changed [metrics] calibration, or [clock] trust_unsynced) restarts,
// and an unchanged input keeps running untouched (its port is never closed by a reload).
// With [store] synchronous = "normal" nothing is durable enough to acknowledge (§3), so `ack`
// is turned off with a warning. Event loop thread only.

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "agent/run_component.hpp"
#include "core/clock.hpp"
#include "drivers/frame_sink.hpp"
#include "drivers/input_specs.hpp"
#include "drivers/serial_input.hpp"

namespace fieldsync::agent {

// What a reload does to the inputs of one kind, by name (sorted).
struct InputChangePlan {
  std::vector<std::string> start;    // new names
  std::vector<std::string> stop;     // names no longer configured
  std::vector<std::string> restart;  // same name, different settings
  std::vector<std::string> keep;     // unchanged
};

bool SameSerialSettings(const drivers::SerialSpec& a, const drivers::SerialSpec& b);

// `decoding_changed`: calibration or clock trust changed, which every decoder depends on.
InputChangePlan PlanSerialChanges(const std::vector<drivers::SerialSpec>& running,
                                  const std::vector<drivers::SerialSpec>& wanted,
                                  bool decoding_changed);

// The seqs stored for one input, oldest first (store/seq_window.hpp); empty when unknown.
using SeqHistory = std::function<std::vector<drivers::StoredSeq>(const std::string& input)>;

class RunSerialInputs final : public ServiceComponent {
 public:
  // `clock` and `sink` must outlive this. `opener` and `backoff` are passed to every input
  // (tests shorten the backoff; nullptr opener = the real tty opener). `history` primes each new
  // input's seq window, so that resends across a restart or reload stay duplicates.
  RunSerialInputs(boost::asio::io_context& io, core::Clock& clock, drivers::FrameSink& sink,
                  std::shared_ptr<drivers::SerialPortOpener> opener = nullptr,
                  drivers::SerialBackoff backoff = {}, SeqHistory history = {});
  ~RunSerialInputs() override;

  std::string_view kind() const override { return "serial"; }
  core::Status Apply(const Config& config) override;
  void PauseIntake() override;
  void Stop() override;

  // The running input called `name`, or nullptr.
  std::shared_ptr<drivers::SerialInput> Find(const std::string& name) const;

 private:
  boost::asio::io_context& io_;
  core::Clock& clock_;
  drivers::FrameSink& sink_;
  std::shared_ptr<drivers::SerialPortOpener> opener_;
  drivers::SerialBackoff backoff_;
  SeqHistory history_;
  std::map<std::string, std::shared_ptr<drivers::SerialInput>> inputs_;
  std::map<std::string, core::MetricSpec> metrics_;  // what the running decoders were built with
  bool trust_unsynced_ = false;
};

}  // namespace fieldsync::agent
