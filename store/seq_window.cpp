#include "store/seq_window.hpp"

#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace fieldsync::store {

core::Status RecordFrameSeq(Database& db, const std::string& input, const std::string& device,
                            std::uint32_t seq) {
  core::Expected<CachedStatement> insert =
      db.Cached("INSERT INTO seq_log(input, device, seq) VALUES(?1, ?2, ?3)");
  if (!insert) return insert.error();
  core::Status status = (*insert)->Bind(1, input);
  if (status) status = (*insert)->Bind(2, device);
  if (status) status = (*insert)->Bind(3, static_cast<std::int64_t>(seq));
  if (status) status = (*insert)->Run();
  if (!status) return status;
  // Everything older than the kSeqLogDepth-th newest row of this stream goes.
  core::Expected<CachedStatement> trim = db.Cached(
      "DELETE FROM seq_log WHERE input = ?1 AND device = ?2 AND id < "
      "(SELECT id FROM seq_log WHERE input = ?1 AND device = ?2 ORDER BY id DESC "
      "LIMIT 1 OFFSET ?3)");
  if (!trim) return trim.error();
  status = (*trim)->Bind(1, input);
  if (status) status = (*trim)->Bind(2, device);
  if (status) status = (*trim)->Bind(3, kSeqLogDepth - 1);
  if (status) status = (*trim)->Run();
  return status;
}

core::Expected<std::vector<SeqRecord>> RecentFrameSeqs(Store& store, const std::string& input) {
  core::Expected<Statement> select =
      store.database().Prepare("SELECT device, seq FROM seq_log WHERE input = ?1 ORDER BY id");
  if (!select) return select.error();
  core::Status status = select->Bind(1, input);
  if (!status) return status.error();
  std::vector<SeqRecord> records;
  while (true) {
    core::Expected<bool> row = select->Step();
    if (!row) return row.error();
    if (!*row) break;
    records.push_back(
        SeqRecord{select->ColumnText(0), static_cast<std::uint32_t>(select->ColumnInt64(1))});
  }
  return records;
}

}  // namespace fieldsync::store
