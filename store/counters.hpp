#pragma once
// Loss and traffic counters kept in the store (§3, §9), so that a restart loses none of them.
// Every function here runs inside the caller's transaction: counters change together with the
// readings they describe. Aggregate maintenance uses AddGlobalCounter for `late`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.hpp"
#include "core/time.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace fieldsync::store {

// Names of the global counters (rows of the `counters` table).
inline constexpr std::string_view kDroppedCounter = "dropped";
inline constexpr std::string_view kLateCounter = "late";
// Readings deleted from the quarantine by `quarantine purge` (the quarantine's own count is its
// row count, not a counter).
inline constexpr std::string_view kQuarantinePurgedCounter = "quarantine_purged";
inline constexpr std::string_view kClockUnsyncedCounter = "clock_unsynced";

// What one commit adds to one input's counters.
struct InputCounterDelta {
  std::int64_t frames = 0;
  std::int64_t readings = 0;
  std::int64_t duplicates = 0;
  std::int64_t frames_lost = 0;
  std::int64_t fields_ignored = 0;
  std::map<std::string, std::int64_t> rejected;  // reason name -> count
  std::optional<core::TimeUs> last_frame_at;     // replaces the stored one when set
};

core::Status AddInputCounters(Database& db, const std::string& input,
                              const InputCounterDelta& delta);
// Adds `delta` to the global counter `name`, creating it at 0 first if needed.
core::Status AddGlobalCounter(Database& db, std::string_view name, std::int64_t delta);

core::Expected<std::map<std::string, InputCounters>> ReadInputCounters(Database& db);
core::Expected<std::map<std::string, std::int64_t>> ReadGlobalCounters(Database& db);

}  // namespace fieldsync::store
