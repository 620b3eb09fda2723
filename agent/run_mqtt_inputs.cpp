#include "agent/run_mqtt_inputs.hpp"

#include <spdlog/spdlog.h>

#include <thread>
#include <utility>

namespace fieldsync::agent {
namespace {

bool SameFrameSpec(const drivers::FrameSpec& a, const drivers::FrameSpec& b) {
  return a.format == b.format && a.fields == b.fields && a.device == b.device &&
         a.checksum == b.checksum && a.max_line == b.max_line;
}

// A stopped MqttInput cannot be destroyed on the loop: its destructor takes Paho's process-wide
// lock, which a message callback that arrived meanwhile holds while it waits for this loop to
// commit its frame. So it is destroyed on a thread of its own, which waits for the callback
// while the loop goes on and finishes it.
void DestroyOffLoop(std::unique_ptr<drivers::MqttInput> input) {
  std::thread([input = std::move(input)]() mutable { input.reset(); }).detach();
}

// At shutdown the loop stops for good, so a callback waiting for it never returns and the
// destructor would never return either: the stopped inputs are kept until the process exits
// (the broker redelivers whatever was not acknowledged). Held through a static pointer so that
// leak checkers stay quiet, and not a static object, whose destructor would run at exit.
void KeepUntilExit(std::unique_ptr<drivers::MqttInput> input) {
  static auto* kept = new std::vector<drivers::MqttInput*>();
  kept->push_back(input.release());
}

}  // namespace

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

bool SameMqttSettings(const drivers::MqttSpec& a, const drivers::MqttSpec& b) {
  return a.name == b.name && a.url == b.url && a.client_id == b.client_id && a.topics == b.topics &&
         SameFrameSpec(a.frame, b.frame) && a.qos == b.qos && a.ack == b.ack &&
         a.username == b.username && a.password == b.password && a.ca_file == b.ca_file &&
         a.cert_file == b.cert_file && a.key_file == b.key_file;
}

InputChangePlan PlanMqttChanges(const std::vector<drivers::MqttSpec>& running,
                                const std::vector<drivers::MqttSpec>& wanted,
                                bool decoding_changed) {
  std::map<std::string, const drivers::MqttSpec*> old_by_name;
  for (const auto& spec : running) old_by_name[spec.name] = &spec;
  std::map<std::string, const drivers::MqttSpec*> new_by_name;
  for (const auto& spec : wanted) new_by_name[spec.name] = &spec;
  InputChangePlan plan;
  for (const auto& [name, want] : new_by_name) {
    auto it = old_by_name.find(name);
    if (it == old_by_name.end()) {
      plan.start.push_back(name);
    } else if (decoding_changed || !SameMqttSettings(*it->second, *want)) {
      plan.restart.push_back(name);
    } else {
      plan.keep.push_back(name);
    }
  }
  for (const auto& [name, spec] : old_by_name) {
    if (new_by_name.count(name) == 0) plan.stop.push_back(name);
  }
  return plan;
}

drivers::MqttInputOptions RunMqttInputs::DefaultOptions() {
  drivers::MqttInputOptions options;
  // Several inputs stop one after the other inside the 5 s shutdown budget.
  options.stop_timeout = std::chrono::seconds(1);
  return options;
}

RunMqttInputs::RunMqttInputs(boost::asio::io_context& io, core::Clock& clock,
                             drivers::FrameSink& sink, drivers::MqttInputOptions options)
    : io_(io), clock_(clock), sink_(sink), options_(options) {}

RunMqttInputs::~RunMqttInputs() { Stop(); }

core::Status RunMqttInputs::Apply(const Config& config) {
  std::vector<drivers::MqttSpec> running;
  for (const auto& [name, entry] : inputs_) running.push_back(entry.spec);
  const bool decoding_changed =
      !calibrations_.empty() && (!SameCalibration(*calibrations_.back(), config.metrics) ||
                                 trust_unsynced_ != config.clock.trust_unsynced);
  InputChangePlan plan = PlanMqttChanges(running, config.mqtt, decoding_changed);
  if (plan.start.empty() && plan.restart.empty() && plan.stop.empty()) return core::Ok();

  // The calibration the new decoders read; kept even if this Apply fails (it is small).
  if (calibrations_.empty() || decoding_changed) {
    calibrations_.push_back(
        std::make_unique<const std::map<std::string, core::MetricSpec>>(config.metrics));
  }
  const auto& calibration = *calibrations_.back();

  // Build every new client before touching a running one: a failure leaves all as it was.
  std::map<std::string, Running> created;
  for (const auto& spec : config.mqtt) {
    bool needed = false;
    for (const auto* list : {&plan.start, &plan.restart}) {
      for (const auto& name : *list) needed = needed || name == spec.name;
    }
    if (!needed) continue;
    if (spec.ack == drivers::MqttAck::kDurable &&
        config.store.synchronous == store::Synchronous::kNormal) {
      spdlog::warn(
          "input {}: ack = \"durable\" with [store] synchronous = \"normal\": a power cut may "
          "lose acknowledged messages",
          spec.name);
    }
    drivers::FrameDecoder decoder(spec.frame, calibration, clock_, config.clock.trust_unsynced);
    auto input = drivers::MqttInput::Create(spec, std::move(decoder), io_, sink_, options_);
    if (!input) return input.error();
    created[spec.name] = Running{spec, std::move(*input)};
  }
  // Stop first, so that a restarted input's session is released before its successor takes it.
  for (const auto* list : {&plan.stop, &plan.restart}) {
    for (const auto& name : *list) {
      spdlog::info("input {}: stopping ({})", name, list == &plan.stop ? "removed" : "changed");
      inputs_[name].input->Stop();
      DestroyOffLoop(std::move(inputs_[name].input));
      inputs_.erase(name);
    }
  }
  for (auto& [name, entry] : created) {
    if (auto started = entry.input->Start(); !started) {
      // Only an input object reused after a held Stop refuses; these are all new.
      spdlog::error("{}", started.error().message);
      continue;
    }
    spdlog::info("input {}: connecting to {}", name, entry.spec.url);
    inputs_[name] = std::move(entry);
  }
  trust_unsynced_ = config.clock.trust_unsynced;
  return core::Ok();
}

void RunMqttInputs::Stop() {
  for (auto& [name, entry] : inputs_) {
    entry.input->Stop();
    KeepUntilExit(std::move(entry.input));
  }
  inputs_.clear();
}

std::vector<std::string> RunMqttInputs::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : inputs_) out.push_back(name);
  return out;
}

}  // namespace fieldsync::agent
