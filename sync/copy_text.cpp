#include "sync/copy_text.hpp"

#include <charconv>
#include <cmath>

namespace fieldsync::sync {

void CopyTextWriter::Separate() {
  if (row_started_) buffer_.push_back('\t');
  row_started_ = true;
}

void CopyTextWriter::Text(std::string_view value) {
  Separate();
  for (char c : value) {
    switch (c) {
      case '\\':
        buffer_ += "\\\\";
        break;
      case '\t':
        buffer_ += "\\t";
        break;
      case '\n':
        buffer_ += "\\n";
        break;
      case '\r':
        buffer_ += "\\r";
        break;
      default:
        buffer_.push_back(c);
    }
  }
}

void CopyTextWriter::Null() {
  Separate();
  buffer_ += "\\N";
}

void CopyTextWriter::Int(std::int64_t value) {
  Separate();
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  buffer_.append(digits, end);
}

void CopyTextWriter::Double(double value) {
  Separate();
  if (std::isnan(value)) {
    buffer_ += "NaN";
  } else if (std::isinf(value)) {
    buffer_ += value > 0 ? "Infinity" : "-Infinity";
  } else {
    char digits[32];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    buffer_.append(digits, end);
  }
}

void CopyTextWriter::Timestamp(core::TimeUs ts) {
  Separate();
  buffer_ += core::FormatRfc3339(ts);
}

void CopyTextWriter::Bool(bool value) {
  Separate();
  buffer_.push_back(value ? 't' : 'f');
}

void CopyTextWriter::EndRow() {
  buffer_.push_back('\n');
  row_started_ = false;
}

}  // namespace fieldsync::sync
