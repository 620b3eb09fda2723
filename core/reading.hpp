#pragma once
// Reading: one value of one metric of one device at one instant, the unit everything moves.

#include <string>
#include <string_view>

#include "core/time.hpp"

namespace fieldsync::core {

// Where a reading's time came from (§1, §10).
enum class TsSource : unsigned char {
  kDevice,         // the frame carried `ts`
  kAgent,          // stamped by the agent on receipt, clock synchronised
  kAgentUnsynced,  // stamped by the agent while the clock was not synchronised
};

std::string_view ToString(TsSource source);
// Inverse of ToString; false when `text` names no source.
bool ParseTsSource(std::string_view text, TsSource& out);

// Invariant: device and metric pass IsValidDevice/IsValidMetric; value is finite.
// (device, metric, ts) identifies a reading: a second one with the same key is a duplicate.
struct Reading {
  std::string device;
  std::string metric;
  TimeUs ts = 0;
  double value = 0.0;
  TsSource ts_source = TsSource::kAgent;

  friend bool operator==(const Reading&, const Reading&) = default;
};

}  // namespace fieldsync::core
