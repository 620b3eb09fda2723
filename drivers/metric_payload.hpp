#pragma once
// The payload of an MQTT message whose topic captured {metric} (§2): a bare number ("22.5"), or
// a JSON object whose "value" member is the reading, e.g. {"value": 22.5, "ts": 1700000000}.
// The object's reserved keys (device, ts, seq) apply as in the json format; its other members
// are ignored and counted in fields_ignored.
//
// Rejections: neither a number nor a JSON object, malformed JSON -> parse; an object without a
// numeric or boolean "value" -> no_readings; reserved keys as for json.

#include <string_view>

#include "drivers/raw_frame.hpp"

namespace fieldsync::drivers {

// The reading, if any, is named `metric` (validated later by the decoder).
ParseResult ParseMetricPayload(std::string_view payload, std::string_view metric);

}  // namespace fieldsync::drivers
