#include "core/reading.hpp"

namespace fieldsync::core {

std::string_view ToString(TsSource source) {
  switch (source) {
    case TsSource::kDevice:
      return "device";
    case TsSource::kAgent:
      return "agent";
    case TsSource::kAgentUnsynced:
      return "agent_unsynced";
  }
  return "agent";
}

bool ParseTsSource(std::string_view text, TsSource& out) {
  for (TsSource s : {TsSource::kDevice, TsSource::kAgent, TsSource::kAgentUnsynced}) {
    if (ToString(s) == text) {
      out = s;
      return true;
    }
  }
  return false;
}

}  // namespace fieldsync::core
