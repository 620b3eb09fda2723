#pragma once
// The size budget of the store (§3, `[store] max_mb`), split between the database file and its
// write-ahead log. Pure arithmetic; the store applies it with PRAGMA max_page_count,
// wal_autocheckpoint and journal_size_limit, so that the check costs nothing per reading:
// SQLite itself answers SQLITE_FULL when an insert would pass the limit.

#include <cstdint>

namespace fieldsync::store {

struct StoreBudget {
  std::int64_t page_size = 0;
  std::int64_t max_bytes = 0;           // max_mb in bytes: db + WAL stay below this
  std::int64_t wal_pages = 0;           // WAL allowance: autocheckpoint threshold and size limit
  std::int64_t hard_limit_pages = 0;    // database pages when deleting (reserve included)
  std::int64_t insert_limit_pages = 0;  // database pages for new readings
};

// Budget for `max_mb` MiB with `page_size`-byte pages. The WAL gets an eighth of the budget, at
// most 4 MiB (SQLite's default checkpoint size); a reserve of 1/64 of the database (4 to 64
// pages) is kept back from inserts so that deleting readings to make room never itself runs
// out of pages. REQUIRES: max_mb >= 1, page_size >= 512.
StoreBudget ComputeBudget(std::int64_t max_mb, std::int64_t page_size);

}  // namespace fieldsync::store
