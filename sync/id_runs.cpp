#include "sync/id_runs.hpp"

#include <algorithm>

namespace fieldsync::sync {

void IdRuns::Append(std::int64_t id) {
  if (!runs_.empty() && runs_.back().first + runs_.back().count == id) {
    ++runs_.back().count;
  } else {
    runs_.push_back({id, 1});
  }
  ++size_;
}

void IdRuns::Append(const std::vector<std::int64_t>& ids) {
  for (std::int64_t id : ids) Append(id);
}

void IdRuns::Append(const IdRuns& other) {
  for (const Run& run : other.runs_) {
    if (!runs_.empty() && runs_.back().first + runs_.back().count == run.first) {
      runs_.back().count += run.count;
    } else {
      runs_.push_back(run);
    }
  }
  size_ += other.size_;
}

void IdRuns::Clear() {
  runs_.clear();
  runs_.shrink_to_fit();
  size_ = 0;
}

core::Status IdRuns::ForEachChunk(
    std::size_t chunk,
    const std::function<core::Status(const std::vector<std::int64_t>&)>& visit) const {
  chunk = std::max<std::size_t>(1, chunk);
  std::vector<std::int64_t> ids;
  ids.reserve(std::min(chunk, size_));
  for (const Run& run : runs_) {
    for (std::int64_t i = 0; i < run.count; ++i) {
      ids.push_back(run.first + i);
      if (ids.size() == chunk) {
        if (auto done = visit(ids); !done) return done;
        ids.clear();
      }
    }
  }
  if (ids.empty()) return core::Ok();
  return visit(ids);
}

}  // namespace fieldsync::sync
