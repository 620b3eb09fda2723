#pragma once
// IdRuns: the exact ids of uploaded outbox rows, kept as runs of consecutive ids. Outbox ids
// are mostly consecutive, so a transaction of a million rows costs a few runs instead of 8 MB,
// and what is deleted afterwards is still exactly these ids, never a range.
//
// Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/expected.hpp"

namespace fieldsync::sync {

class IdRuns {
 public:
  void Append(std::int64_t id);
  void Append(const std::vector<std::int64_t>& ids);
  void Append(const IdRuns& other);
  std::size_t size() const { return size_; }  // ids
  std::size_t runs() const { return runs_.size(); }
  bool empty() const { return size_ == 0; }
  void Clear();

  // Calls `visit` with the ids in order, at most `chunk` at a time; stops at the first error.
  core::Status ForEachChunk(
      std::size_t chunk,
      const std::function<core::Status(const std::vector<std::int64_t>&)>& visit) const;

 private:
  struct Run {
    std::int64_t first;
    std::int64_t count;
  };
  std::vector<Run> runs_;
  std::size_t size_ = 0;
};

}  // namespace fieldsync::sync
