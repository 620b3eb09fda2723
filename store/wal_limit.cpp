#include "store/wal_limit.hpp"

#include <algorithm>
#include <optional>

#include "store/disk_reserve.hpp"

namespace fieldsync::store {
namespace {

constexpr std::int64_t kMinAllowancePages = 8;

}  // namespace

WalLimit::WalLimit(Database& db, std::string state_dir, std::int64_t budget_pages,
                   std::int64_t page_size)
    : db_(db),
      state_dir_(std::move(state_dir)),
      budget_pages_(budget_pages),
      page_size_(page_size),
      allowance_pages_(budget_pages) {}

WalLimit::~WalLimit() { sqlite3_wal_hook(db_.handle(), nullptr, nullptr); }

core::Status WalLimit::Install() {
  // Replaces SQLite's autocheckpoint (which is itself a wal hook).
  sqlite3_wal_hook(db_.handle(), &WalLimit::OnCommit, this);
  return AdaptToFreeSpace();
}

core::Status WalLimit::AdaptToFreeSpace() {
  std::int64_t allowance = budget_pages_;
  if (std::optional<std::int64_t> free_bytes = FreeBytes(state_dir_ + "/.")) {
    allowance = std::min(allowance, *free_bytes / 8 / page_size_);
  }
  allowance_pages_ = std::max(allowance, kMinAllowancePages);
  // After a checkpoint reset SQLite trims a larger WAL file back to this size.
  return db_.Exec("PRAGMA journal_size_limit = " + std::to_string(allowance_pages_ * page_size_));
}

core::Status WalLimit::Truncate() {
  int rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                     nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_.handle(), rc, "checkpoint " + db_.path());
  return core::Ok();
}

int WalLimit::OnCommit(void* self, sqlite3* db, const char* name, int frames) {
  auto* limit = static_cast<WalLimit*>(self);
  if (frames > limit->allowance_pages_) {
    // One commit pushed the WAL past its share: give the space back now.
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  } else if (frames >= limit->allowance_pages_ / 2) {
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  return SQLITE_OK;  // a failed checkpoint is retried after the next commit
}

}  // namespace fieldsync::store
