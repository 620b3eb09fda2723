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
inline constexpr std::int64_t kSchemaVersion = 6;

// reading_keys.aside (schema.cpp, version 6): whether a key is one of the late window.
inline constexpr std::int64_t kKeyInWindow = 0;  // once its reading is folded
inline constexpr std::int64_t kKeyHeld = 1;      // its reading is held: a provisional ts
inline constexpr std::int64_t kKeyAside = 2;     // released and not folded yet, or late

// Brings `db` from its user_version to the last version of `migrations`. A database whose
// user_version is above that is refused with kUnsupported, naming both versions; it is left
// untouched. REQUIRES: no transaction open on `db`.
core::Status MigrateSchema(Database& db, std::span<const Migration> migrations);

// Reads PRAGMA user_version.
core::Expected<std::int64_t> SchemaVersion(Database& db);

}  // namespace fieldsync::store
