#include "store/profile_cache.hpp"

namespace fieldsync::store {

core::Expected<ProfileCache> ProfileCache::Open(Database& db) {
  auto created = db.Exec(
      "CREATE TABLE IF NOT EXISTS fetched_profiles ("
      " metric TEXT PRIMARY KEY,"
      " optimal_lo REAL NOT NULL, optimal_hi REAL NOT NULL,"
      " critical_lo REAL NOT NULL, critical_hi REAL NOT NULL,"
      " fetched_at INTEGER NOT NULL)");
  if (!created) return created.error();
  return ProfileCache(db);
}

core::Status ProfileCache::Save(const std::map<std::string, core::ConditionProfile>& profiles,
                                core::TimeUs fetched_at) {
  auto tx = Transaction::Begin(*db_);
  if (!tx) return tx.error();
  if (auto cleared = db_->Exec("DELETE FROM fetched_profiles"); !cleared) return cleared;
  auto insert = db_->Cached(
      "INSERT INTO fetched_profiles (metric, optimal_lo, optimal_hi, critical_lo, critical_hi,"
      " fetched_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert) return insert.error();
  for (const auto& [metric, p] : profiles) {
    for (const core::Status& bound :
         {(*insert)->Bind(1, std::string_view(metric)), (*insert)->Bind(2, p.optimal_lo),
          (*insert)->Bind(3, p.optimal_hi), (*insert)->Bind(4, p.critical_lo),
          (*insert)->Bind(5, p.critical_hi), (*insert)->Bind(6, std::int64_t{fetched_at})}) {
      if (!bound) return bound;
    }
    if (auto ran = (*insert)->Run(); !ran) return ran;
    (*insert)->Reset();
  }
  return tx->Commit();
}

core::Expected<std::map<std::string, core::ConditionProfile>> ProfileCache::Load() {
  auto select = db_->Prepare(
      "SELECT metric, optimal_lo, optimal_hi, critical_lo, critical_hi FROM fetched_profiles");
  if (!select) return select.error();
  std::map<std::string, core::ConditionProfile> profiles;
  while (true) {
    auto row = select->Step();
    if (!row) return row.error();
    if (!*row) break;
    profiles[select->ColumnText(0)] =
        core::ConditionProfile{select->ColumnDouble(1), select->ColumnDouble(2),
                               select->ColumnDouble(3), select->ColumnDouble(4)};
  }
  return profiles;
}

}  // namespace fieldsync::store
