// The quarantine of the store: moving refused rows out of the outbox, listing, retrying and
// purging them. Every change is one transaction, so a row is always either pending or
// quarantined, never both and never neither.

#include "store/quarantine.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/counters.hpp"
#include "store/schema.hpp"
#include "store/store_impl.hpp"

namespace fieldsync::store {
namespace {

constexpr const char* kMoveToQuarantine =
    "INSERT INTO quarantine(series_id, ts, value, ts_source, received_at, reason, sqlstate, "
    "quarantined_at) SELECT series_id, ts, value, ts_source, ts + received_offset, ?2, ?3, ?4 "
    "FROM readings WHERE id = ?1";
// A quarantined reading's key may be kept for the late window (it left the outbox inside it):
// the reading takes it back, and stays one of the window. Returns 1 when it did.
std::string FreeWindowKeySql() {
  return std::string(
             "DELETE FROM reading_keys WHERE (ts, series_id) = "
             "(SELECT ts, series_id FROM quarantine WHERE id = ?1) AND NOT ") +
         kKeyIsPending;
}
// Its key, unless another pending reading holds it (the same reading arrived again since):
// ?2 is the id it will take, ?3 its aside (schema.hpp: in the window, or not, having been late
// or below the window's anchor when it left).
constexpr const char* kKeyToPending =
    "INSERT INTO reading_keys(ts, series_id, value, reading_id, aside) "
    "SELECT ts, series_id, value, ?2, ?3 FROM quarantine WHERE id = ?1 ON CONFLICT DO NOTHING";
constexpr const char* kMoveToPending =
    "INSERT INTO readings(id, series_id, ts, value, ts_source, received_offset) "
    "SELECT ?2, series_id, ts, value, ts_source, received_at - ts FROM quarantine WHERE id = ?1";

core::TsSource TsSourceOf(std::int64_t stored) {
  return stored == 0   ? core::TsSource::kDevice
         : stored == 2 ? core::TsSource::kAgentUnsynced
                       : core::TsSource::kAgent;
}

// Database::Run, returning the number of rows the statement changed.
core::Expected<std::int64_t> RunWith(Database& db, std::string_view sql,
                                     std::initializer_list<std::int64_t> values) {
  if (core::Status status = db.Run(sql, values); !status) return status.error();
  return db.changes();
}

// Puts quarantine row `id` back into the outbox with its key; 0 when its key is pending already.
core::Expected<std::int64_t> MoveToPending(Database& db, std::int64_t id) {
  core::Expected<std::int64_t> in_window = RunWith(db, FreeWindowKeySql(), {id});
  if (!in_window) return in_window.error();
  core::Expected<std::optional<std::int64_t>> newest =
      db.QueryInt64("SELECT max(id) FROM readings");
  if (!newest) return newest.error();
  const std::int64_t reading_id = newest->value_or(0) + 1;
  core::Expected<std::int64_t> keyed =
      RunWith(db, kKeyToPending, {id, reading_id, *in_window > 0 ? kKeyInWindow : kKeyAside});
  if (!keyed) return keyed.error();
  if (*keyed == 0) return 0;
  return RunWith(db, kMoveToPending, {id, reading_id});
}

// The quarantine ids a selection names, ascending; ids that name no row go to `unknown`.
// REQUIRES: a transaction is open (the ids must not change before they are used).
core::Expected<std::vector<std::int64_t>> SelectedIds(Database& db,
                                                      const QuarantineSelection& selection,
                                                      std::vector<std::int64_t>& unknown) {
  std::vector<std::int64_t> ids;
  if (selection.all) {
    core::Expected<CachedStatement> rows = db.Cached("SELECT id FROM quarantine ORDER BY id");
    if (!rows) return rows.error();
    while (true) {
      core::Expected<bool> row = (*rows)->Step();
      if (!row) return row.error();
      if (!*row) break;
      ids.push_back((*rows)->ColumnInt64(0));
    }
    return ids;
  }
  for (std::int64_t id : std::set<std::int64_t>(selection.ids.begin(), selection.ids.end())) {
    core::Expected<CachedStatement> find = db.Cached("SELECT 1 FROM quarantine WHERE id = ?1");
    if (!find) return find.error();
    core::Status status = (*find)->Bind(1, id);
    if (!status) return status.error();
    core::Expected<bool> row = (*find)->Step();
    if (!row) return row.error();
    (*row ? ids : unknown).push_back(id);
  }
  return ids;
}

// Retry (back to pending) or purge (delete) of the selected rows in one transaction.
// A retried row was aggregated before it was quarantined: the observer is told so.
core::Expected<QuarantineChange> ChangeQuarantine(Database& db, OutboxObserver* observer,
                                                  const QuarantineSelection& selection, bool retry,
                                                  bool dry_run) {
  QuarantineChange change;
  core::Expected<Transaction> txn = Transaction::Begin(db);
  if (!txn) return txn.error();
  core::Expected<std::vector<std::int64_t>> ids = SelectedIds(db, selection, change.unknown_ids);
  if (!ids) return ids.error();
  if (!change.unknown_ids.empty()) return change;  // the transaction rolls back unused
  if (retry && observer != nullptr) {
    if (core::Status settled = observer->Settle(db, INT64_MAX); !settled) return settled.error();
  }
  for (std::int64_t id : *ids) {
    if (retry) {
      core::Expected<std::int64_t> moved = MoveToPending(db, id);
      if (!moved) return moved.error();
      if (*moved == 0) ++change.already_pending;
    }
    core::Expected<std::int64_t> removed =
        RunWith(db, "DELETE FROM quarantine WHERE id = ?1", {id});
    if (!removed) return removed.error();
    change.rows += *removed;
  }
  if (dry_run) return change;  // rolled back: the counts say what would change
  core::Status status =
      retry ? core::Ok() : AddGlobalCounter(db, kQuarantinePurgedCounter, change.rows);
  if (status && retry && observer != nullptr) status = observer->Restored(db);
  if (status) status = txn->Commit();
  if (!status) return status.error();
  return change;
}

}  // namespace

core::Expected<std::int64_t> Store::Quarantine(const std::vector<std::int64_t>& ids,
                                               const std::string& reason,
                                               const std::string& sqlstate) {
  Database& db = *impl_->db;
  const core::TimeUs now = impl_->clock->NowUs();
  core::Expected<std::int64_t> moved = [&]() -> core::Expected<std::int64_t> {
    core::Expected<Transaction> txn = Transaction::Begin(db);
    if (!txn) return txn.error();
    if (impl_->observer != nullptr && !ids.empty()) {
      core::Status settled = impl_->observer->Settle(db, *std::max_element(ids.begin(), ids.end()));
      if (!settled) return settled.error();
    }
    std::int64_t count = 0;
    for (std::int64_t id : ids) {
      core::Expected<CachedStatement> insert = db.Cached(kMoveToQuarantine);
      if (!insert) return insert.error();
      core::Status status = (*insert)->Bind(1, id);
      if (status) status = (*insert)->Bind(2, reason);
      if (status) status = (*insert)->Bind(3, sqlstate);
      if (status) status = (*insert)->Bind(4, now);
      if (status) status = (*insert)->Run();
      if (!status) return status.error();
      if (db.changes() == 0) continue;  // no longer pending (dropped to make room meanwhile)
      core::Expected<std::int64_t> removed = impl_->RemoveReadings({id});
      if (!removed) return removed.error();
      ++count;
    }
    core::Status status = txn->Commit();
    if (!status) return status.error();
    return count;
  }();
  if (!moved) {
    return moved.error().Wrap("quarantine " + std::to_string(ids.size()) + " refused reading(s)");
  }
  return moved;
}

core::Expected<std::vector<QuarantinedReading>> Store::ListQuarantined(std::size_t limit) {
  std::vector<QuarantinedReading> list;
  core::Expected<CachedStatement> rows = impl_->db->Cached(
      "SELECT q.id, s.device, s.metric, q.ts, q.value, q.ts_source, q.received_at, q.reason, "
      "q.sqlstate, q.quarantined_at FROM quarantine q JOIN series s ON s.id = q.series_id "
      "ORDER BY q.id LIMIT ?1");
  if (!rows) return rows.error();
  core::Status status = (*rows)->Bind(1, static_cast<std::int64_t>(limit));
  if (!status) return status.error();
  while (true) {
    core::Expected<bool> row = (*rows)->Step();
    if (!row) return row.error().Wrap("read the quarantine");
    if (!*row) break;
    QuarantinedReading q;
    q.id = (*rows)->ColumnInt64(0);
    q.reading.device = (*rows)->ColumnText(1);
    q.reading.metric = (*rows)->ColumnText(2);
    q.reading.ts = (*rows)->ColumnInt64(3);
    q.reading.value = (*rows)->ColumnDouble(4);
    q.reading.ts_source = TsSourceOf((*rows)->ColumnInt64(5));
    q.received_at = (*rows)->ColumnInt64(6);
    q.reason = (*rows)->ColumnText(7);
    q.sqlstate = (*rows)->ColumnText(8);
    q.quarantined_at = (*rows)->ColumnInt64(9);
    list.push_back(std::move(q));
  }
  return list;
}

core::Expected<QuarantineChange> Store::RetryQuarantined(const QuarantineSelection& selection,
                                                         bool dry_run) {
  impl_->pending_floor.reset();  // retried readings are pending again at their old ts
  core::Expected<QuarantineChange> change =
      ChangeQuarantine(*impl_->db, impl_->observer, selection, /*retry=*/true, dry_run);
  if (!change) return change.error().Wrap("retry quarantined readings");
  return change;
}

core::Expected<QuarantineChange> Store::PurgeQuarantined(const QuarantineSelection& selection,
                                                         bool dry_run) {
  core::Expected<QuarantineChange> change =
      ChangeQuarantine(*impl_->db, impl_->observer, selection, /*retry=*/false, dry_run);
  if (!change) return change.error().Wrap("purge quarantined readings");
  return change;
}

}  // namespace fieldsync::store
