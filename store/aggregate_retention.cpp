// AggregateStore: watermarks and retention of local buckets.
#include "store/aggregate_schema.hpp"
#include "store/aggregate_store.hpp"

namespace fieldsync::store {
namespace {

core::Expected<std::int64_t> CountOrDelete(Database& db, const std::string& where,
                                           core::TimeUs cutoff, bool count_only) {
  auto stmt = db.Cached(count_only ? "SELECT count(*) FROM " + where : "DELETE FROM " + where);
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, cutoff); !s) return s.error();
  auto row = (*stmt)->Step();
  if (!row) return row.error();
  if (count_only) return *row ? (*stmt)->ColumnInt64(0) : 0;
  return db.changes();
}

}  // namespace

Watermarks AggregateStore::WatermarksAt(core::TimeUs now) const {
  const core::TimeUs settled = now - options_.late_window_s * core::kMicrosPerSecond;
  Watermarks w;
  w.hourly = HourBucketStart(settled) - core::kMicrosPerHour;
  w.daily = zone_.LocalDay(settled) - 1;
  return w;
}

core::Expected<CleanupCounts> AggregateStore::Cleanup(core::TimeUs now, bool dry_run,
                                                      std::int64_t hourly_retention_days,
                                                      std::int64_t daily_retention_days) {
  if (hourly_retention_days < 0) hourly_retention_days = options_.hourly_retention_days;
  if (daily_retention_days < 0) daily_retention_days = options_.daily_retention_days;
  const core::TimeUs hourly_cutoff = now - hourly_retention_days * core::kMicrosPerDay;
  const core::TimeUs daily_cutoff = now - daily_retention_days * core::kMicrosPerDay;

  // The stored readings are folded first, so that the buckets compared or deleted include every
  // reading. A dry run does it in a transaction that is rolled back: nothing is written.
  auto tx = BeginFolded();
  if (!tx) return tx.error();
  CleanupCounts counts;
  // Invariant: a bucket leaves the store only once the remote holds its current version.
  auto hourly = CountOrDelete(*db_,
                              "agg_hourly WHERE bucket + 3600000000 <= ?1 "
                              "AND version = uploaded_version",
                              hourly_cutoff, dry_run);
  if (!hourly) return hourly.error();
  auto daily = CountOrDelete(*db_, "agg_daily WHERE end_ts <= ?1 AND version = uploaded_version",
                             daily_cutoff, dry_run);
  if (!daily) return daily.error();
  auto kept_h = CountOrDelete(*db_,
                              "agg_hourly WHERE bucket + 3600000000 <= ?1 "
                              "AND version > uploaded_version",
                              hourly_cutoff, true);
  if (!kept_h) return kept_h.error();
  auto kept_d = CountOrDelete(*db_, "agg_daily WHERE end_ts <= ?1 AND version > uploaded_version",
                              daily_cutoff, true);
  if (!kept_d) return kept_d.error();
  counts.hourly = *hourly;
  counts.daily = *daily;
  counts.kept_pending = *kept_h + *kept_d;

  if (!dry_run) {
    // Removal counts older than every retained bucket fold into agg_state.removed_through, which
    // still tells Recompute that a series lost readings before then.
    const core::TimeUs oldest_kept = std::min(hourly_cutoff, daily_cutoff);
    const std::int64_t quarter = oldest_kept / kRemovalQuarterUs;
    for (const char* sql :
         {"INSERT INTO agg_state(series_id, removed_through) SELECT series_id, max(quarter) "
          "FROM agg_removed WHERE quarter < ?1 GROUP BY series_id "
          "ON CONFLICT(series_id) DO UPDATE SET removed_through = "
          "max(coalesce(removed_through, excluded.removed_through), excluded.removed_through)",
          "DELETE FROM agg_removed WHERE quarter < ?1"}) {
      auto stmt = db_->Cached(sql);
      if (!stmt) return stmt.error();
      if (auto s = (*stmt)->Bind(1, quarter); !s) return s.error();
      if (auto s = (*stmt)->Run(); !s) return s.error();
    }
  }
  if (*tx && !dry_run) {
    if (auto s = (*tx)->Commit(); !s) return s.error();
  }
  return counts;
}

}  // namespace fieldsync::store
