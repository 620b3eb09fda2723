#pragma once
// WalLimit: keeps the write-ahead log inside its share of the budget and of the disk.
// SQLite's own autocheckpoint only starts once the WAL has grown past a threshold and leaves the
// file at its largest size; here a wal hook checkpoints at half the allowance and truncates the
// file as soon as one commit pushed it past the whole allowance. The allowance also shrinks to
// an eighth of the file system's free space, so that on a nearly full disk the WAL cannot take
// the room the database itself needs. Not thread-safe; owned by the Store with its Database.

#include <cstdint>
#include <string>
#include <utility>

#include "core/expected.hpp"
#include "store/sqlite.hpp"

namespace fieldsync::store {

class WalLimit {
 public:
  // REQUIRES: `db` outlives this object or Detach() is called first; `db` is in WAL mode.
  WalLimit(Database& db, std::string state_dir, std::int64_t budget_pages, std::int64_t page_size);
  ~WalLimit();
  WalLimit(const WalLimit&) = delete;
  WalLimit& operator=(const WalLimit&) = delete;

  // Installs the hook and sizes the allowance from the budget and the free space (statvfs).
  core::Status Install();
  // Re-reads the free space; called after a disk-full event and when space came back.
  core::Status AdaptToFreeSpace();
  // Copies the WAL into the database and truncates it to zero bytes, giving its space back.
  // May fail (a full disk, a reader holding old frames): nothing is lost either way.
  core::Status Truncate();

  std::int64_t allowance_pages() const { return allowance_pages_; }

 private:
  static int OnCommit(void* self, sqlite3* db, const char* name, int frames);

  Database& db_;
  std::string state_dir_;
  std::int64_t budget_pages_;
  std::int64_t page_size_;
  std::int64_t allowance_pages_;
};

}  // namespace fieldsync::store
