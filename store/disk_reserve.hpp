#pragma once
// DiskReserve: a file of preallocated space next to the database, given back to the file system
// when the disk is full so that the store can still write the WAL frames of the transaction that
// deletes readings (or records what was refused), and taken again once space is available.
// Not thread-safe; owned by the Store.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/expected.hpp"

namespace fieldsync::store {

// Free bytes for unprivileged use on the file system holding `path` (statvfs); nullopt when it
// cannot be read.
std::optional<std::int64_t> FreeBytes(const std::string& path);

class DiskReserve {
 public:
  explicit DiskReserve(std::string path) : path_(std::move(path)) {}

  // The size Take() allocates; a held reserve keeps its old size until taken again.
  void set_bytes(std::int64_t bytes) { bytes_ = bytes; }
  std::int64_t bytes() const { return bytes_; }

  // Makes sure the reserve file exists with its full size. Fails with kFull when the disk has
  // no room for it (the reserve then stays released; try again later).
  core::Status Take();
  // Deletes the reserve file, freeing its space. Returns whether there was anything to free.
  bool Release();
  bool held() const { return held_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::int64_t bytes_ = 0;
  bool held_ = false;
};

}  // namespace fieldsync::store
