#pragma once
// TopicCapture: what an MQTT topic template captured for one message (§2).

#include <optional>
#include <string>

namespace fieldsync::drivers {

// Empty for inputs other than MQTT, and for templates without placeholders.
struct TopicCapture {
  std::optional<std::string> device;
  std::optional<std::string> metric;  // set: the payload is a bare number or {"value":n,"ts":..}
};

}  // namespace fieldsync::drivers
