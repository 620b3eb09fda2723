// AggregateStore: buckets pending upload, and marking them uploaded at the version read.
#include "store/aggregate_rows.hpp"
#include "store/aggregate_store.hpp"

namespace fieldsync::store {
namespace {

template <class Row>
core::Expected<std::int64_t> Mark(Database& db, const std::string& sql,
                                  const std::vector<Row>& rows, std::int64_t Row::*key) {
  std::optional<Transaction> tx;
  if (db.autocommit()) {
    auto begun = Transaction::Begin(db);
    if (!begun) return begun.error();
    tx.emplace(std::move(*begun));
  }
  std::int64_t marked = 0;
  for (const Row& row : rows) {
    auto stmt = db.Cached(sql);
    if (!stmt) return stmt.error();
    if (auto s = (*stmt)->Bind(1, row.series_id); !s) return s.error();
    if (auto s = (*stmt)->Bind(2, row.*key); !s) return s.error();
    if (auto s = (*stmt)->Bind(3, row.version); !s) return s.error();
    if (auto s = (*stmt)->Run(); !s) return s.error();
    marked += db.changes();
  }
  if (tx) {
    if (auto s = tx->Commit(); !s) return s.error();
  }
  return marked;
}

}  // namespace

core::Expected<std::vector<HourlyRow>> AggregateStore::PendingHourly(std::size_t limit) {
  if (auto folded = FoldAll(); !folded) return folded.error();
  auto stmt = db_->Cached(
      "SELECT h.series_id, s.device, s.metric, h.bucket, h.n, h.sum_v, h.min_v, h.max_v, "
      "h.last_v, h.last_ts, h.delta, h.optimal_n, h.critical_n, h.version "
      "FROM agg_hourly h JOIN series s ON s.id = h.series_id "
      "WHERE h.version > h.uploaded_version ORDER BY h.bucket, h.series_id LIMIT ?1");
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, static_cast<std::int64_t>(limit)); !s) return s.error();
  std::vector<HourlyRow> rows;
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    HourlyRow r;
    r.series_id = (*stmt)->ColumnInt64(0);
    r.device = (*stmt)->ColumnText(1);
    r.metric = (*stmt)->ColumnText(2);
    r.bucket = (*stmt)->ColumnInt64(3);
    r.stats = ReadStats(**stmt, 4);
    r.version = (*stmt)->ColumnInt64(4 + kStatsColumns);
    rows.push_back(std::move(r));
  }
  return rows;
}

core::Expected<std::vector<DailyRow>> AggregateStore::PendingDaily(std::size_t limit) {
  if (auto folded = FoldAll(); !folded) return folded.error();
  auto stmt = db_->Cached(
      "SELECT d.series_id, s.device, s.metric, d.day, d.tz, d.start_ts, d.end_ts, d.n, d.sum_v, "
      "d.min_v, d.max_v, d.last_v, d.last_ts, d.delta, d.optimal_n, d.critical_n, d.version "
      "FROM agg_daily d JOIN series s ON s.id = d.series_id "
      "WHERE d.version > d.uploaded_version ORDER BY d.day, d.series_id LIMIT ?1");
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, static_cast<std::int64_t>(limit)); !s) return s.error();
  std::vector<DailyRow> rows;
  while (true) {
    auto row = (*stmt)->Step();
    if (!row) return row.error();
    if (!*row) break;
    DailyRow r;
    r.series_id = (*stmt)->ColumnInt64(0);
    r.device = (*stmt)->ColumnText(1);
    r.metric = (*stmt)->ColumnText(2);
    r.day = (*stmt)->ColumnInt64(3);
    r.tz = (*stmt)->ColumnText(4);
    r.start = (*stmt)->ColumnInt64(5);
    r.end = (*stmt)->ColumnInt64(6);
    r.stats = ReadStats(**stmt, 7);
    r.version = (*stmt)->ColumnInt64(7 + kStatsColumns);
    rows.push_back(std::move(r));
  }
  return rows;
}

core::Expected<std::int64_t> AggregateStore::MarkUploaded(const std::vector<HourlyRow>& rows) {
  return Mark(*db_,
              "UPDATE agg_hourly SET uploaded_version = ?3 "
              "WHERE series_id = ?1 AND bucket = ?2 AND version = ?3",
              rows, &HourlyRow::bucket);
}

core::Expected<std::int64_t> AggregateStore::MarkUploaded(const std::vector<DailyRow>& rows) {
  return Mark(*db_,
              "UPDATE agg_daily SET uploaded_version = ?3 "
              "WHERE series_id = ?1 AND day = ?2 AND version = ?3",
              rows, &DailyRow::day);
}

core::Expected<std::int64_t> AggregateStore::PendingCount() {
  // Counts what an upload would send now: the stored readings folded first, in a transaction
  // that is rolled back, so that counting (status, dry runs) writes nothing.
  auto tx = BeginFolded();
  if (!tx) return tx.error();
  auto n = db_->QueryInt64(
      "SELECT (SELECT count(*) FROM agg_hourly WHERE version > uploaded_version) + "
      "(SELECT count(*) FROM agg_daily WHERE version > uploaded_version)");
  if (!n) return n.error();
  return n->value_or(0);
}

}  // namespace fieldsync::store
