#pragma once
// ProfileCache: the condition profiles last fetched from the central database (§4), kept in the
// store's SQLite database (table `fetched_profiles`) so that an agent restarted without a link to
// the remote still aggregates with them. Each Save replaces the whole set in one transaction.
//
// Borrows the Database; the thread that owns that connection calls these. Any connection to the
// same store file may be used (one writes, another reads: SQLite's WAL keeps readers consistent).

#include <map>
#include <string>

#include "core/expected.hpp"
#include "core/metric_spec.hpp"
#include "core/time.hpp"
#include "store/sqlite.hpp"

namespace fieldsync::store {

class ProfileCache {
 public:
  // Creates the table if missing.
  static core::Expected<ProfileCache> Open(Database& db);

  // Replaces the cached set by `profiles` (metric -> merged profile), stamped `fetched_at`.
  core::Status Save(const std::map<std::string, core::ConditionProfile>& profiles,
                    core::TimeUs fetched_at);
  // The cached set; empty when nothing was ever fetched.
  core::Expected<std::map<std::string, core::ConditionProfile>> Load();

 private:
  explicit ProfileCache(Database& db) : db_(&db) {}
  Database* db_;
};

}  // namespace fieldsync::store
