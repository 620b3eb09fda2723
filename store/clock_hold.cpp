// Held readings (§10): recording them at commit, and releasing them once their time can be
// trusted or never will be (Store::ReleaseHeld).

#include "store/clock_hold.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "store/counters.hpp"
#include "store/store_impl.hpp"

namespace fieldsync::store {
namespace {

// One held reading as ReleaseHeld finds it.
struct HeldRow {
  std::int64_t id = 0;
  std::int64_t series_id = 0;
  std::string boot_id;
  core::TimeUs boot_us = 0;
  core::Reading reading;  // ts and value as stored; ts_source set on release
};

core::Expected<std::vector<HeldRow>> LoadHeld(Database& db) {
  core::Expected<Statement> rows = db.Prepare(
      "SELECT h.reading_id, r.series_id, b.boot_id, h.boot_us, s.device, s.metric, r.ts, r.value "
      "FROM held_readings h JOIN readings r ON r.id = h.reading_id "
      "JOIN series s ON s.id = r.series_id JOIN clock_boots b ON b.id = h.boot "
      "ORDER BY h.reading_id");
  if (!rows) return rows.error();
  std::vector<HeldRow> out;
  while (true) {
    core::Expected<bool> row = rows->Step();
    if (!row) return row.error().Wrap("read held readings");
    if (!*row) break;
    HeldRow held;
    held.id = rows->ColumnInt64(0);
    held.series_id = rows->ColumnInt64(1);
    held.boot_id = rows->ColumnText(2);
    held.boot_us = rows->ColumnInt64(3);
    held.reading.device = rows->ColumnText(4);
    held.reading.metric = rows->ColumnText(5);
    held.reading.ts = rows->ColumnInt64(6);
    held.reading.value = rows->ColumnDouble(7);
    out.push_back(std::move(held));
  }
  return out;
}

// Whether the store knows the key: a pending reading, or one kept for the late window.
core::Expected<bool> KeyTaken(Database& db, std::int64_t series_id, core::TimeUs ts) {
  core::Expected<CachedStatement> find =
      db.Cached("SELECT 1 FROM reading_keys WHERE ts = ?2 AND series_id = ?1");
  if (!find) return find.error();
  core::Status status = (*find)->Bind(1, series_id);
  if (status) status = (*find)->Bind(2, ts);
  if (!status) return status.error();
  return (*find)->Step();
}

}  // namespace

core::Expected<std::int64_t> InternBoot(Database& db, const std::string& boot_id) {
  core::Expected<CachedStatement> add =
      db.Cached("INSERT INTO clock_boots(boot_id) VALUES(?1) ON CONFLICT(boot_id) DO NOTHING");
  if (!add) return add.error();
  core::Status status = (*add)->Bind(1, boot_id);
  if (status) status = (*add)->Run();
  if (!status) return status.error().Wrap("record boot " + boot_id);
  core::Expected<CachedStatement> find = db.Cached("SELECT id FROM clock_boots WHERE boot_id = ?1");
  if (!find) return find.error();
  status = (*find)->Bind(1, boot_id);
  if (!status) return status.error();
  core::Expected<bool> row = (*find)->Step();
  if (!row) return row.error();
  if (!*row) return core::MakeError(core::Errc::kIo, "boot " + boot_id + " vanished");
  return (*find)->ColumnInt64(0);
}

core::Status RecordHeld(Database& db, std::int64_t reading_id, std::int64_t boot,
                        core::TimeUs boot_us) {
  return db.Run("INSERT INTO held_readings(reading_id, boot, boot_us) VALUES(?1, ?2, ?3)",
                {reading_id, boot, boot_us});
}

core::Expected<std::int64_t> CountHeld(Database& db) {
  core::Expected<std::optional<std::int64_t>> n =
      db.QueryInt64("SELECT count(*) FROM held_readings");
  if (!n) return n.error();
  return n->value_or(0);
}

core::Expected<HeldRelease> Store::ReleaseHeld(bool trust_current_boot) {
  Impl& impl = *impl_;
  Database& db = *impl.db;
  HeldRelease result;
  core::Expected<std::int64_t> count = CountHeld(db);
  if (!count) return count.error().Wrap("count held readings");
  if (*count == 0) return result;

  // One reading of the clock for the whole release: every re-stamp uses the same pair.
  const std::string boot_id = impl.clock->BootId();
  const bool synced = impl.clock->IsSynchronized();
  const core::TimeUs wall_now = impl.clock->NowUs();
  const core::TimeUs boot_now = impl.clock->BootTimeUs();

  core::Expected<Transaction> txn = Transaction::Begin(db);
  if (!txn) return txn.error().Wrap("release held readings");
  impl.pending_floor.reset();  // released readings become pending at any ts
  if (impl.observer != nullptr) {
    // Everything stored before the release is aggregated first: released readings then reach
    // the aggregates after it, as they would had they arrived now.
    core::Status settled = impl.observer->Settle(db, INT64_MAX);
    if (!settled) return settled.error().Wrap("release held readings");
  }
  core::Expected<std::vector<HeldRow>> held = LoadHeld(db);
  if (!held) return held.error();

  std::vector<HeldRow*> restamp;
  std::vector<core::Reading> released;
  const std::string kSetSource = "UPDATE readings SET ts_source = ?2 WHERE id = ?1";
  const std::string kUnhold = "DELETE FROM held_readings WHERE reading_id = ?1";
  auto release = [&](HeldRow& row, core::TsSource source) -> core::Status {
    row.reading.ts_source = source;
    core::Status status = db.Run(kSetSource, {row.id, static_cast<std::int64_t>(source)});
    if (status) status = db.Run(kUnhold, {row.id});
    return status;
  };
  for (HeldRow& row : *held) {
    core::Status status = core::Ok();
    if (row.boot_id != boot_id) {
      // Its boot ended before the clock synchronised: the best-effort stamp is all there is.
      status = release(row, core::TsSource::kAgentUnsynced);
      ++result.unsynced;
      released.push_back(row.reading);
    } else if (synced) {
      // Out of the key space first (ts < 0 is never a real reading), so that re-stamping one
      // held reading never collides with another's provisional key.
      status = db.Run("UPDATE readings SET ts = -id WHERE id = ?1", {row.id});
      restamp.push_back(&row);
    } else if (trust_current_boot) {
      status = release(row, core::TsSource::kAgent);
      ++result.trusted;
      released.push_back(row.reading);
    } else {
      ++result.still_held;
    }
    if (!status) return status.error().Wrap("release held readings");
  }

  // In id order (arrival order): the earlier reading gets the earlier key when two collide.
  for (HeldRow* row : restamp) {
    core::TimeUs ts = RestampedTs(wall_now, boot_now, row->boot_us);
    bool moved = false;
    while (true) {
      core::Expected<bool> taken = KeyTaken(db, row->series_id, ts);
      if (!taken) return taken.error();
      if (!*taken) break;
      ++ts;
      moved = true;
    }
    row->reading.ts = ts;
    core::Status status = db.Run("UPDATE readings SET ts = ?2, ts_source = ?3 WHERE id = ?1",
                                 {row->id, ts, static_cast<std::int64_t>(core::TsSource::kAgent)});
    if (status) status = db.Run(kUnhold, {row->id});
    if (!status) return status.error().Wrap("re-stamp held readings");
    row->reading.ts_source = core::TsSource::kAgent;
    ++result.restamped;
    if (moved) ++result.bumped;
  }
  // After the ended boots' readings, which arrived earlier: `released` stays in arrival order.
  for (HeldRow* row : restamp) released.push_back(row->reading);

  core::Status status =
      db.Exec("DELETE FROM clock_boots WHERE id NOT IN (SELECT DISTINCT boot FROM held_readings)");
  if (status) status = AddGlobalCounter(db, kClockUnsyncedCounter, result.unsynced);
  if (status && impl.observer != nullptr && !released.empty()) {
    status = impl.observer->Released(db, released);
  }
  if (status) status = txn->Commit();
  if (!status) return status.error().Wrap("release held readings");
  return result;
}

}  // namespace fieldsync::store
