#include "sync/sql_state.hpp"

namespace fieldsync::sync {

core::Errc ErrcForSqlState(std::string_view sqlstate) {
  if (sqlstate == kSqlStateUniqueViolation) return core::Errc::kConflict;
  if (sqlstate.size() != 5) return core::Errc::kRemoteOther;
  const std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08" || cls == "40" || cls == "53" || cls == "57") return core::Errc::kUnavailable;
  if (cls == "22" || cls == "23") return core::Errc::kRemoteData;
  return core::Errc::kRemoteOther;
}

}  // namespace fieldsync::sync
