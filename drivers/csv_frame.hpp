#pragma once
// The `csv` frame format (§2): comma-separated values in the order of the input's `fields`.
// Spaces and tabs around a cell are trimmed; an empty cell is a missing value (no reading).
// A column named device, ts or seq is the reserved key of that name. Quoting is not supported:
// a cell cannot contain a comma.
//
// Rejections: a row whose number of cells differs from fields.size() -> parse; a cell that is
// not a number -> bad_value; reserved columns as for json/kv.

#include <string>
#include <string_view>
#include <vector>

#include "drivers/raw_frame.hpp"

namespace fieldsync::drivers {

ParseResult ParseCsvFrame(std::string_view text, const std::vector<std::string>& fields);

}  // namespace fieldsync::drivers
