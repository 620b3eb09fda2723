#pragma once
// CopyTextWriter: rows in PostgreSQL's COPY text format (tab-separated, \N for NULL, backslash
// escapes), built into a buffer that the caller streams with PgConnection::PutCopyData.
// Doubles are written in their shortest exact form, so the server stores the very same value;
// times are RFC 3339 UTC with microseconds, which timestamptz reads exactly.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace fieldsync::sync {

class CopyTextWriter {
 public:
  void Text(std::string_view value);
  void Null();
  void Int(std::int64_t value);
  void Double(double value);  // NaN and infinities as PostgreSQL spells them
  void Timestamp(core::TimeUs ts);
  void Bool(bool value);
  void EndRow();

  const std::string& buffer() const { return buffer_; }
  std::size_t size() const { return buffer_.size(); }
  void Clear() { buffer_.clear(); }

 private:
  void Separate();
  std::string buffer_;
  bool row_started_ = false;
};

}  // namespace fieldsync::sync
