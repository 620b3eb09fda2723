#pragma once
// The remote schema of §5 (readings, hourly, daily, devices, metrics, gateways) in a
// configurable schema, created and upgraded by numbered migrations recorded in
// <schema>.schema_migrations. Each version runs in its own transaction under an advisory lock,
// so two agents migrating at once do not race; running Migrate again changes nothing.
//
// Schema names come from config: they must pass core::IsValidSqlIdentifier and are always
// quoted. Functions taking a PgConnection use it from the calling thread only.

#include <string>
#include <vector>

#include "core/expected.hpp"
#include "sync/pg_connection.hpp"

namespace fieldsync::sync {

// The highest migration version this build knows.
int LatestSchemaVersion();

// `"name"` for a valid identifier; kInvalidArgument naming it otherwise.
core::Expected<std::string> QuoteSchemaName(const std::string& schema);

// The SQL that brings a schema at `from_version` to the latest version (bootstrap of the
// schema and schema_migrations included), as `remote migrate --dry-run` prints it.
core::Expected<std::string> RenderMigrationSql(const std::string& schema, int from_version);

// GRANT statements a least-privilege upload role needs: USAGE on the schema, SELECT, INSERT and
// UPDATE on the six tables, SELECT on schema_migrations. Temporary tables need TEMP on the
// database, which PostgreSQL grants to PUBLIC by default.
core::Expected<std::string> RenderGrants(const std::string& schema, const std::string& role);

// The version recorded in <schema>.schema_migrations; 0 when the schema or table is missing.
core::Expected<int> CurrentSchemaVersion(PgConnection& conn, const std::string& schema);

struct MigrateReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<std::string> notes;  // e.g. "readings is now a TimescaleDB hypertable"
};

// Applies every missing version, then the extension-dependent steps (TimescaleDB hypertable or
// Citus distribution of readings, each only when the extension is installed and not yet done).
// A database at a newer version than this build knows is refused (kUnsupported).
core::Expected<MigrateReport> MigrateSchema(PgConnection& conn, const std::string& schema);

// What the connected role lacks to upload, one plain sentence each ("no INSERT on
// fieldsync.readings"); empty when nothing is missing.
core::Expected<std::vector<std::string>> MissingPrivileges(PgConnection& conn,
                                                           const std::string& schema);

}  // namespace fieldsync::sync
