#pragma once
// Clock trust in the store (§10): readings the agent stamped while the system clock was not
// synchronised are held, with the boot-relative instant of their stamp (CLOCK_BOOTTIME and the
// boot id), until they can be given a trustworthy time:
//
//   - the clock becomes synchronised in the same boot: each held reading is re-stamped
//       ts = wall_now - (boot_now - its boot time)
//     and becomes an ordinary `agent` reading;
//   - the boot it was stamped in ended before the clock synchronised: the boot-relative time is
//     useless now, so the reading keeps its best-effort stamp, becomes `agent_unsynced` and is
//     counted in the `clock_unsynced` counter.
//
// A held reading is a row of `readings` (so it counts against the budget, and drop_oldest may
// delete it like any other) with the stored ts_source kHeldTsSource, plus a row of
// `held_readings`. OldestPending, the pending counts and the aggregates skip it; the commit hook
// (aggregates) sees it only when it is released, in the releasing transaction.
//
// Store::ReleaseHeld (store.hpp) does the re-stamping and releasing; the types and the pure
// arithmetic are here. The SQL helpers below are private to the store's sources.

#include <cstdint>
#include <string>

#include "core/expected.hpp"
#include "core/time.hpp"
#include "store/sqlite.hpp"

namespace fieldsync::store {

// ts_source as stored for a held reading: 0..2 are core::TsSource, 3 is "held, not yet released".
inline constexpr std::int64_t kHeldTsSource = 3;

// What one Store::ReleaseHeld did.
struct HeldRelease {
  std::int64_t restamped = 0;   // held in this boot, re-stamped: now `agent` and pending
  std::int64_t bumped = 0;      // of `restamped`: moved forward by whole µs off a taken key
  std::int64_t unsynced = 0;    // held in a boot that ended unsynchronised: now `agent_unsynced`
  std::int64_t trusted = 0;     // held in this boot, released as stamped (trust_unsynced)
  std::int64_t still_held = 0;  // held in this boot and the clock is still not synchronised
};

// The wall-clock time of the instant that was `boot_at_us` on the boot-time scale, from one
// reading of both clocks now (`wall_now_us` synchronised, `boot_now_us`). Pure.
constexpr core::TimeUs RestampedTs(core::TimeUs wall_now_us, core::TimeUs boot_now_us,
                                   core::TimeUs boot_at_us) {
  return wall_now_us - (boot_now_us - boot_at_us);
}

// --- private to the store's sources ----------------------------------------------------------

// The row id of `boot_id` in clock_boots, adding it if needed. REQUIRES: a transaction is open.
core::Expected<std::int64_t> InternBoot(Database& db, const std::string& boot_id);
// Records that readings row `reading_id` (stored with kHeldTsSource) is held with its stamp's
// boot-relative time. REQUIRES: a transaction is open.
core::Status RecordHeld(Database& db, std::int64_t reading_id, std::int64_t boot,
                        core::TimeUs boot_us);
// Number of held readings.
core::Expected<std::int64_t> CountHeld(Database& db);

}  // namespace fieldsync::store
