#pragma once
// The local store's schema, versioned with PRAGMA user_version and migrated forward on open.
// Each migration step runs in its own transaction together with its user_version bump, so a
// crash or failure leaves the store at the previous version, never in between.

#include <cstdint>
#include <span>
#include <string>

#include "core/expected.hpp"
#include "store/sqlite.hpp"

namespace fieldsync::store {

struct Migration {
  std::int64_t version;  // user_version after this step; steps are listed in increasing order
  std::string sql;       // one or more statements
};

// The migrations of this build, oldest first. The last one's version is kSchemaVersion.
std::span<const Migration> StoreMigrations();
inline constexpr std::int64_t kSchemaVersion = 7;

// reading_keys.aside (schema.cpp, version 6): whether a key is one of the late window.
inline constexpr std::int64_t kKeyInWindow = 0;  // once its reading is folded
inline constexpr std::int64_t kKeyHeld = 1;      // its reading is held: a provisional ts
inline constexpr std::int64_t kKeyAside = 2;     // released and not folded yet, or late

// SQL: whether a reading_keys row's reading is still in the outbox. A key the late window keeps
// (schema version 7) names a reading that left; one kept before names none (reading_id NULL).
// Matching the key as well as the id makes the test exact even if an id were ever used again.
inline constexpr const char* kKeyIsPending =
    "EXISTS (SELECT 1 FROM readings r WHERE r.id = reading_keys.reading_id AND "
    "r.ts = reading_keys.ts AND r.series_id = reading_keys.series_id)";

// Brings `db` from its user_version to the last version of `migrations`. A database whose
// user_version is above that is refused with kUnsupported, naming both versions; it is left
// untouched. REQUIRES: no transaction open on `db`.
core::Status MigrateSchema(Database& db, std::span<const Migration> migrations);

// Reads PRAGMA user_version.
core::Expected<std::int64_t> SchemaVersion(Database& db);

}  // namespace fieldsync::store
