// Opening the store, reading from it and deleting uploaded readings. The write path of ingest
// is in commit.cpp.

#include "store/store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "store/clock_hold.hpp"
#include "store/counters.hpp"
#include "store/instance_id.hpp"
#include "store/schema.hpp"
#include "store/store_impl.hpp"

namespace fieldsync::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;
// Small pages: a grouped commit rewrites the partly filled last page of the table and of each
// series' stretch of the key index; at 1 KiB instead of SQLite's 4 KiB that rewrite costs a
// quarter, which measured as roughly 40 % fewer bytes written per reading (docs/store.md).
constexpr std::int64_t kPageSize = 1024;

std::int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

core::Status EnsureDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return core::Ok();
  int err = errno;
  return core::MakeError(core::Errc::kIo,
                         "create state directory " + dir + ": " + std::strerror(err));
}

// Connection settings; applied on every open because SQLite does not persist them (except WAL).
core::Status Configure(Database& db, const StoreOptions& options) {
  if (int rc = sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs); rc != SQLITE_OK) {
    return SqliteError(db.handle(), rc, "set busy_timeout");
  }
  core::Expected<std::optional<std::string>> mode = db.QueryText("PRAGMA journal_mode = WAL");
  if (!mode) return mode.error().Wrap("enable WAL on " + db.path());
  if (mode->value_or("") != "wal") {
    return core::MakeError(core::Errc::kIo, "enable WAL on " + db.path() + ": journal_mode is " +
                                                mode->value_or("unknown"));
  }
  // secure_delete (on in Debian's build) would zero freed content: extra writes for nothing here.
  return db.Exec(std::string("PRAGMA synchronous = ") +
                 (options.synchronous == Synchronous::kFull ? "FULL" : "NORMAL") +
                 "; PRAGMA secure_delete = OFF; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -" +
                 std::to_string(std::max<std::int64_t>(64, options.cache_kib)) + ";");
}

core::Expected<std::string> LoadOrCreateInstanceId(Database& db) {
  core::Expected<std::optional<std::string>> existing =
      db.QueryText("SELECT value FROM meta WHERE key = 'instance_id'");
  if (!existing) return existing.error();
  if (*existing) return **existing;
  core::Expected<std::string> id = NewInstanceId();
  if (!id) return id.error();
  core::Expected<Transaction> txn = Transaction::Begin(db);
  if (!txn) return txn.error();
  core::Expected<Statement> insert =
      db.Prepare("INSERT INTO meta(key, value) VALUES('instance_id', ?1)");
  if (!insert) return insert.error();
  core::Status status = insert->Bind(1, *id);
  if (status) status = insert->Run();
  if (status) status = txn->Commit();
  if (!status) return status.error();
  return id;
}

}  // namespace

core::Expected<std::unique_ptr<Store>> Store::Open(const std::string& state_dir,
                                                   const StoreOptions& options,
                                                   core::Clock& clock) {
  if (options.max_mb < 1) {
    return core::MakeError(core::Errc::kInvalidArgument, "store max_mb must be at least 1, got " +
                                                             std::to_string(options.max_mb));
  }
  core::Status status = EnsureDirectory(state_dir);
  if (!status) return status.error();
  std::string db_path = state_dir + "/fieldsync.db";
  auto impl = std::make_unique<Impl>(clock, db_path + "-reserve");
  impl->options = options;
  impl->db_path = db_path;

  core::Expected<std::unique_ptr<Database>> db = Database::Open(db_path);
  if (!db) return db.error();
  impl->db = std::move(*db);
  Database& conn = *impl->db;

  // Refuse a newer store before changing anything in it.
  core::Expected<std::int64_t> version = SchemaVersion(conn);
  if (!version) return version.error().Wrap("open store " + db_path);
  if (*version > kSchemaVersion) return MigrateSchema(conn, StoreMigrations()).error();

  // Only takes effect on a fresh file; an existing store keeps its page size.
  status = conn.Exec("PRAGMA page_size = " + std::to_string(kPageSize));
  if (status) status = Configure(conn, options);
  if (status) status = MigrateSchema(conn, StoreMigrations());
  if (!status) return status.error().Wrap("open store " + db_path);

  core::Expected<std::optional<std::int64_t>> page_size = conn.QueryInt64("PRAGMA page_size");
  if (!page_size) return page_size.error();
  std::int64_t bytes_per_page = page_size->value_or(kPageSize);
  impl->budget = ComputeBudget(options.max_mb, bytes_per_page);
  status = impl->SetPageLimit(impl->HardLimitPages());
  if (status) {
    impl->wal = std::make_unique<WalLimit>(conn, state_dir, impl->budget.wal_pages, bytes_per_page);
    status = impl->wal->Install();
  }
  if (!status) return status.error().Wrap("apply max_mb to " + db_path);

  core::Expected<std::string> instance_id = LoadOrCreateInstanceId(conn);
  if (!instance_id) return instance_id.error().Wrap("instance_id of " + db_path);
  impl->instance_id = std::move(*instance_id);
  // The reserve covers what a checkpoint may need to copy from the WAL into the database.
  impl->reserve.set_bytes(impl->wal->allowance_pages() * bytes_per_page);
  (void)impl->reserve.Take();  // a disk already full leaves it out; retried on commits

  std::unique_ptr<Store> store(new Store());
  store->impl_ = std::move(impl);
  return store;
}

Store::~Store() = default;

core::Expected<UploadBatch> Store::OldestPending(std::size_t limit, std::int64_t after_id) {
  UploadBatch batch;
  // Sized once: growing by doubling would briefly hold one and a half batches.
  const std::size_t expected = std::min<std::size_t>(limit, 64 * 1024);
  batch.ids.reserve(expected);
  batch.readings.reserve(expected);
  batch.received_at.reserve(expected);
  core::Expected<CachedStatement> rows = impl_->db->Cached(
      "SELECT r.id, s.device, s.metric, r.ts, r.value, r.ts_source, r.ts + r.received_offset "
      "FROM readings r JOIN series s ON s.id = r.series_id WHERE r.id > ?2 AND r.ts_source <> 3 "
      "ORDER BY r.id LIMIT ?1");
  if (!rows) return rows.error();
  core::Status status = (*rows)->Bind(1, static_cast<std::int64_t>(limit));
  if (status) status = (*rows)->Bind(2, after_id);
  if (!status) return status.error();
  while (true) {
    core::Expected<bool> row = (*rows)->Step();
    if (!row) return row.error().Wrap("read oldest pending readings");
    if (!*row) break;
    core::Reading reading;
    reading.device = (*rows)->ColumnText(1);
    reading.metric = (*rows)->ColumnText(2);
    reading.ts = (*rows)->ColumnInt64(3);
    reading.value = (*rows)->ColumnDouble(4);
    std::int64_t source = (*rows)->ColumnInt64(5);
    reading.ts_source = source == 0   ? core::TsSource::kDevice
                        : source == 2 ? core::TsSource::kAgentUnsynced
                                      : core::TsSource::kAgent;
    batch.ids.push_back((*rows)->ColumnInt64(0));
    batch.readings.push_back(std::move(reading));
    batch.received_at.push_back((*rows)->ColumnInt64(6));
  }
  return batch;
}

core::Status Store::Impl::CollectRemoved(Statement& remove, std::vector<RemovedReading>& removed) {
  while (true) {
    core::Expected<bool> row = remove.Step();
    if (!row) return row.error();
    if (!*row) return core::Ok();
    removed.push_back(RemovedReading{remove.ColumnInt64(0), remove.ColumnInt64(1),
                                     remove.ColumnInt64(2), remove.ColumnInt64(3) == 3});
  }
}

core::Status ForgetKeys(Database& db, const std::vector<RemovedReading>& removed) {
  core::Expected<CachedStatement> forget =
      db.Cached("DELETE FROM reading_keys WHERE ts = ?2 AND series_id = ?1 AND reading_id = ?3");
  if (!forget) return forget.error();
  for (const RemovedReading& r : removed) {
    if (core::Status status = (*forget)->Run({r.series_id, r.ts, r.id}); !status) return status;
  }
  return core::Ok();
}

core::Status Store::Impl::ForgetRemoved(const std::vector<RemovedReading>& removed) {
  if (removed.empty()) return core::Ok();
  for (const RemovedReading& r : removed) {
    if (!r.held) continue;
    core::Status status = db->Run("DELETE FROM held_readings WHERE reading_id = ?1", {r.id});
    if (!status) return status;
  }
  if (observer != nullptr) return observer->Removed(*db, removed);
  // Without its aggregates, a store that has them would lose their late window and their count
  // of what left (agg_removed): refused, so that such a path fails in tests, not in the field.
  core::Expected<std::optional<std::int64_t>> aggregated = db->QueryInt64(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'agg_fold'");
  if (!aggregated) return aggregated.error();
  if (aggregated->value_or(0) > 0) {
    return core::MakeError(core::Errc::kInternal,
                           "readings of an aggregated store removed without its aggregates");
  }
  return ForgetKeys(*db, removed);
}

core::Expected<std::int64_t> Store::Impl::RemoveReadings(const std::vector<std::int64_t>& ids) {
  // Forgotten a slice at a time: an upload's chunk of ids is 32,768 (uploader_readings.cpp).
  constexpr std::size_t kSlice = 4096;
  std::vector<RemovedReading> removed;
  removed.reserve(std::min(ids.size(), kSlice));
  std::int64_t count = 0;
  for (std::size_t from = 0; from < ids.size(); from += kSlice) {
    removed.clear();
    {
      core::Expected<CachedStatement> remove =
          db->Cached(std::string("DELETE FROM readings WHERE id = ?1") + kRemovedColumns);
      if (!remove) return remove.error();
      for (std::size_t i = from; i < std::min(ids.size(), from + kSlice); ++i) {
        core::Status status = (*remove)->Bind(1, ids[i]);
        if (status) status = CollectRemoved(**remove, removed);
        if (!status) return status.error();
        (*remove)->Reset();
      }
    }
    core::Status status = ForgetRemoved(removed);
    if (!status) return status.error();
    count += static_cast<std::int64_t>(removed.size());
  }
  return count;
}

core::Status Store::DeleteUploaded(const std::vector<std::int64_t>& ids) {
  Impl& impl = *impl_;
  for (int attempt = 0;; ++attempt) {
    core::Status status = [&]() -> core::Status {
      core::Expected<Transaction> txn = Transaction::Begin(*impl.db);
      if (!txn) return txn.error();
      if (impl.observer != nullptr && !ids.empty()) {
        core::Status settled =
            impl.observer->Settle(*impl.db, *std::max_element(ids.begin(), ids.end()));
        if (!settled) return settled;
      }
      core::Expected<std::int64_t> removed = impl.RemoveReadings(ids);
      if (!removed) return removed.error();
      return txn->Commit();
    }();
    if (status) return status;
    // On a full disk even a delete needs room for its WAL frames: give back the reserve once.
    if (status.error().code != core::Errc::kFull || attempt > 0) {
      return status.error().Wrap("delete " + std::to_string(ids.size()) + " uploaded readings");
    }
    impl.OnDiskFull();
  }
}

core::Expected<std::optional<core::TimeUs>> Store::Impl::OldestPendingTs() {
  if (!pending_floor) {
    // Unknown: one pass over the outbox, which is small whenever the sync keeps up. From then
    // on the floor saves it; an empty outbox leaves it unknown, since readings may arrive
    // through another connection of the store, whose inserts do not lower this one's floor.
    core::Expected<std::optional<std::int64_t>> oldest =
        db->QueryInt64("SELECT min(ts) FROM readings WHERE ts_source <> 3");
    if (!oldest) return oldest.error();
    pending_floor = *oldest;
    return *oldest;
  }
  // The first pending key at or after the floor, stepping over the keys of readings uploaded
  // since (kept for the late window) and held keys (aside 1, few, and only while the clock is
  // unsynchronised).
  core::Expected<CachedStatement> first =
      db->Cached(std::string("SELECT ts FROM reading_keys WHERE ts >= ?1 AND aside <> 1 AND ") +
                 kKeyIsPending + " ORDER BY ts LIMIT 1");
  if (!first) return first.error();
  if (core::Status bound = (*first)->Bind(1, *pending_floor); !bound) return bound.error();
  core::Expected<bool> found = (*first)->Step();
  if (!found) return found.error();
  if (!*found) {
    // Nothing pending at or after the floor: unknown again (the outbox is empty, or another
    // connection stored readings below the floor), found from the outbox next time.
    pending_floor.reset();
    return OldestPendingTs();
  }
  pending_floor = (*first)->ColumnInt64(0);
  return pending_floor;
}

core::Expected<StoreStats> Store::Stats() {
  Database& db = *impl_->db;
  StoreStats stats;
  // One read transaction so that the numbers describe one moment.
  core::Status status = db.Exec("BEGIN");
  if (!status) return status.error();
  core::Expected<StoreStats> result = [&]() -> core::Expected<StoreStats> {
    core::Expected<std::optional<std::int64_t>> rows =
        db.QueryInt64("SELECT count(*) FROM readings");
    if (!rows) return rows.error();
    core::Expected<std::int64_t> held = CountHeld(db);
    if (!held) return held.error();
    stats.held_readings = *held;
    stats.pending_readings = rows->value_or(0) - *held;
    core::Expected<std::optional<core::TimeUs>> oldest = impl_->OldestPendingTs();
    if (!oldest) return oldest.error();
    stats.oldest_pending_ts = *oldest;
    core::Expected<std::map<std::string, std::int64_t>> counters = ReadGlobalCounters(db);
    if (!counters) return counters.error();
    auto counter = [&](std::string_view name) {
      auto it = counters->find(std::string(name));
      return it == counters->end() ? 0 : it->second;
    };
    stats.dropped = counter(kDroppedCounter);
    stats.late = counter(kLateCounter);
    core::Expected<std::optional<std::int64_t>> quarantined =
        db.QueryInt64("SELECT count(*) FROM quarantine");
    if (!quarantined) return quarantined.error();
    stats.quarantined = quarantined->value_or(0);
    stats.clock_unsynced = counter(kClockUnsyncedCounter);
    core::Expected<std::map<std::string, InputCounters>> inputs = ReadInputCounters(db);
    if (!inputs) return inputs.error();
    stats.inputs = std::move(*inputs);
    for (const auto& [name, input] : stats.inputs) stats.duplicates += input.duplicates;
    return stats;
  }();
  (void)db.Exec("COMMIT");
  if (!result) return result.error().Wrap("read store status");
  result->bytes = FileSize(impl_->db_path) + FileSize(impl_->db_path + "-wal");
  result->max_bytes = impl_->budget.max_bytes;
  return result;
}

const std::string& Store::instance_id() const { return impl_->instance_id; }

void Store::SetObserver(OutboxObserver* observer) { impl_->observer = observer; }

Database& Store::database() { return *impl_->db; }

}  // namespace fieldsync::store
