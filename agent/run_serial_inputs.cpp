#include "agent/run_serial_inputs.hpp"

#include <spdlog/spdlog.h>

#include <set>
#include <utility>

#include "drivers/serial_port.hpp"

namespace fieldsync::agent {
namespace {

// Decoders use a metric's calibration only; units and profiles do not touch a frame.
bool SameCalibration(const std::map<std::string, core::MetricSpec>& a,
                     const std::map<std::string, core::MetricSpec>& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    if (ia->first != ib->first || ia->second.scale != ib->second.scale ||
        ia->second.offset != ib->second.offset) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool SameSerialSettings(const drivers::SerialSpec& a, const drivers::SerialSpec& b) {
  return a.name == b.name && a.port == b.port && a.baud == b.baud && a.ack == b.ack &&
         a.frame.format == b.frame.format && a.frame.fields == b.frame.fields &&
         a.frame.device == b.frame.device && a.frame.checksum == b.frame.checksum &&
         a.frame.max_line == b.frame.max_line;
}

InputChangePlan PlanSerialChanges(const std::vector<drivers::SerialSpec>& running,
                                  const std::vector<drivers::SerialSpec>& wanted,
                                  bool decoding_changed) {
  std::map<std::string, const drivers::SerialSpec*> old_by_name;
  for (const auto& spec : running) old_by_name[spec.name] = &spec;
  std::set<std::string> wanted_names;
  InputChangePlan plan;
  for (const auto& spec : wanted) wanted_names.insert(spec.name);
  for (const auto& name : wanted_names) {
    const drivers::SerialSpec* want = nullptr;
    for (const auto& spec : wanted) {
      if (spec.name == name) want = &spec;
    }
    auto it = old_by_name.find(name);
    if (it == old_by_name.end()) {
      plan.start.push_back(name);
    } else if (decoding_changed || !SameSerialSettings(*it->second, *want)) {
      plan.restart.push_back(name);
    } else {
      plan.keep.push_back(name);
    }
  }
  for (const auto& [name, spec] : old_by_name) {
    if (wanted_names.count(name) == 0) plan.stop.push_back(name);
  }
  return plan;
}

RunSerialInputs::RunSerialInputs(boost::asio::io_context& io, core::Clock& clock,
                                 drivers::FrameSink& sink,
                                 std::shared_ptr<drivers::SerialPortOpener> opener,
                                 drivers::SerialBackoff backoff, SeqHistory history)
    : io_(io),
      clock_(clock),
      sink_(sink),
      opener_(std::move(opener)),
      backoff_(backoff),
      history_(std::move(history)) {}

RunSerialInputs::~RunSerialInputs() { Stop(); }

core::Status RunSerialInputs::Apply(const Config& config) {
  std::vector<drivers::SerialSpec> wanted = config.serial;
  for (auto& spec : wanted) {
    if (auto valid = drivers::ValidateSerialSpec(spec); !valid) return valid.error();
    if (spec.ack && config.store.synchronous == store::Synchronous::kNormal) {
      spdlog::warn("input {}: ack = true needs [store] synchronous = \"full\"; not acknowledging",
                   spec.name);
      spec.ack = false;
    }
  }
  std::vector<drivers::SerialSpec> running;
  for (const auto& [name, input] : inputs_) running.push_back(input->spec());
  bool decoding_changed = !inputs_.empty() && (!SameCalibration(metrics_, config.metrics) ||
                                               trust_unsynced_ != config.clock.trust_unsynced);
  InputChangePlan plan = PlanSerialChanges(running, wanted, decoding_changed);

  // Build every new input before touching a running one: a failure leaves all as it was.
  std::map<std::string, std::shared_ptr<drivers::SerialInput>> created;
  for (const auto& spec : wanted) {
    bool needed = false;
    for (const auto* list : {&plan.start, &plan.restart}) {
      for (const auto& name : *list) needed = needed || name == spec.name;
    }
    if (!needed) continue;
    auto input = drivers::SerialInput::Create(
        io_, spec, config.metrics, clock_, config.clock.trust_unsynced, sink_, opener_, backoff_);
    if (!input) return input.error();
    created[spec.name] = std::move(*input);
  }
  // Stop first, so that a restarted input's port is closed before its successor opens it.
  for (const auto* list : {&plan.stop, &plan.restart}) {
    for (const auto& name : *list) {
      spdlog::info("input {}: stopping ({})", name, list == &plan.stop ? "removed" : "changed");
      inputs_[name]->Stop();
      inputs_.erase(name);
    }
  }
  for (auto& [name, input] : created) {
    inputs_[name] = input;
    // After the stop above: a restarted input's predecessor has handed over all it had.
    if (history_) input->PrimeSeqs(history_(name));
    input->Start();
  }
  metrics_ = config.metrics;
  trust_unsynced_ = config.clock.trust_unsynced;
  return core::Ok();
}

void RunSerialInputs::PauseIntake() {
  for (auto& [name, input] : inputs_) input->PauseIntake();
}

void RunSerialInputs::Stop() {
  for (auto& [name, input] : inputs_) input->Stop();
  inputs_.clear();
}

std::shared_ptr<drivers::SerialInput> RunSerialInputs::Find(const std::string& name) const {
  auto it = inputs_.find(name);
  return it == inputs_.end() ? nullptr : it->second;
}

}  // namespace fieldsync::agent
