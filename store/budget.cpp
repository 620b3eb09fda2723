#include "store/budget.hpp"

#include <algorithm>

namespace fieldsync::store {

StoreBudget ComputeBudget(std::int64_t max_mb, std::int64_t page_size) {
  StoreBudget budget;
  budget.page_size = page_size;
  budget.max_bytes = max_mb * 1024 * 1024;
  std::int64_t total_pages = budget.max_bytes / page_size;
  budget.wal_pages = std::clamp<std::int64_t>(total_pages / 8, 8, (4 * 1024 * 1024) / page_size);
  budget.hard_limit_pages = std::max<std::int64_t>(total_pages - budget.wal_pages, 16);
  std::int64_t reserve = std::clamp<std::int64_t>(budget.hard_limit_pages / 64, 4, 64);
  budget.insert_limit_pages = budget.hard_limit_pages - reserve;
  return budget;
}

}  // namespace fieldsync::store
