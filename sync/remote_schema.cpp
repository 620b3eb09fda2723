#include "sync/remote_schema.hpp"

#include <charconv>

#include "core/names.hpp"

namespace fieldsync::sync {
namespace {

using core::Errc;
using core::MakeError;

struct Migration {
  int version;
  const char* description;
  const char* sql;  // "{s}" stands for the quoted schema name
};

// Column lists exactly as §5 gives them; keys are NOT NULL because they are primary keys.
constexpr Migration kMigrations[] = {
    {1, "readings, hourly, daily, devices, metrics, gateways",
     R"(CREATE TABLE {s}.readings (
  gateway text NOT NULL, device text NOT NULL, metric text NOT NULL, ts timestamptz NOT NULL,
  value double precision, ts_source text, received_at timestamptz,
  PRIMARY KEY (gateway, device, metric, ts));
CREATE TABLE {s}.hourly (
  gateway text NOT NULL, device text NOT NULL, metric text NOT NULL, bucket timestamptz NOT NULL,
  n bigint, sum double precision, avg double precision, min double precision,
  max double precision, last double precision, last_ts timestamptz, delta double precision,
  optimal_n bigint, critical_n bigint, optimal_pct double precision,
  critical_pct double precision, updated_at timestamptz,
  PRIMARY KEY (gateway, device, metric, bucket));
CREATE TABLE {s}.daily (
  gateway text NOT NULL, device text NOT NULL, metric text NOT NULL, day date NOT NULL, tz text,
  n bigint, sum double precision, avg double precision, min double precision,
  max double precision, last double precision, last_ts timestamptz, delta double precision,
  optimal_n bigint, critical_n bigint, optimal_pct double precision,
  critical_pct double precision, updated_at timestamptz,
  PRIMARY KEY (gateway, device, metric, day));
CREATE TABLE {s}.devices (
  gateway text NOT NULL, device text NOT NULL, first_seen timestamptz, last_seen timestamptz,
  PRIMARY KEY (gateway, device));
CREATE TABLE {s}.metrics (
  gateway text NOT NULL, metric text NOT NULL, kind text, unit text,
  optimal_lo double precision, optimal_hi double precision, critical_lo double precision,
  critical_hi double precision,
  PRIMARY KEY (gateway, metric));
CREATE TABLE {s}.gateways (
  gateway text PRIMARY KEY, instance_id text, version text, pending bigint,
  oldest_pending timestamptz, dropped bigint, clock_synced boolean, last_sync_at timestamptz);
)"},
};

constexpr const char* kTables[] = {"readings", "hourly", "daily", "devices", "metrics", "gateways"};

constexpr const char* kBootstrapSql = R"(CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
  version integer PRIMARY KEY, description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now());
)";

std::string Expand(const char* sql, const std::string& quoted) {
  std::string out(sql);
  for (size_t at = out.find("{s}"); at != std::string::npos; at = out.find("{s}", at)) {
    out.replace(at, 3, quoted);
    at += quoted.size();
  }
  return out;
}

// Serialises migrations of one schema across agents; released at COMMIT/ROLLBACK.
core::Status LockSchema(PgConnection& conn, const std::string& schema) {
  auto locked =
      conn.Exec("SELECT pg_advisory_xact_lock(hashtext($1))", {"fieldsync.migrate." + schema});
  if (!locked) return locked.error();
  return core::Ok();
}

// Runs `body` inside BEGIN ... COMMIT holding the schema lock; rolls back on any error.
template <class Body>
core::Status InTransaction(PgConnection& conn, const std::string& schema, Body body) {
  if (auto begun = conn.Exec("BEGIN"); !begun) return begun.error();
  core::Status status = LockSchema(conn, schema);
  if (status) status = body();
  if (!status) {
    conn.RollbackQuietly();
    return status;
  }
  if (auto committed = conn.Exec("COMMIT"); !committed) return committed.error();
  return core::Ok();
}

core::Expected<bool> ExtensionInstalled(PgConnection& conn, const char* name) {
  auto r = conn.Exec("SELECT 1 FROM pg_extension WHERE extname = $1", {std::string(name)});
  if (!r) return r.error();
  return r->rows() > 0;
}

// TimescaleDB (create_hypertable) and Citus (create_distributed_table), per their documentation;
// neither is packaged in Debian 12, so this path is not exercised by the tests.
core::Status ApplyExtensionSteps(PgConnection& conn, const std::string& quoted,
                                 MigrateReport& report) {
  const std::string readings = quoted + ".readings";
  auto timescale = ExtensionInstalled(conn, "timescaledb");
  if (!timescale) return timescale.error();
  if (*timescale) {
    auto r = conn.Exec(
        "SELECT create_hypertable($1::regclass, 'ts', if_not_exists => TRUE, "
        "migrate_data => TRUE)",
        {readings});
    if (!r) return r.error().Wrap("TimescaleDB hypertable");
    report.notes.push_back("readings is a TimescaleDB hypertable on ts");
  }
  auto citus = ExtensionInstalled(conn, "citus");
  if (!citus) return citus.error();
  if (*citus) {
    auto done =
        conn.Exec("SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1::regclass", {readings});
    if (!done) return done.error();
    if (done->rows() == 0) {
      auto r = conn.Exec("SELECT create_distributed_table($1, 'gateway')", {readings});
      if (!r) return r.error().Wrap("Citus distribution");
    }
    report.notes.push_back("readings is distributed by gateway (Citus)");
  }
  return core::Ok();
}

}  // namespace

int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

core::Expected<std::string> QuoteSchemaName(const std::string& schema) {
  if (!core::IsValidSqlIdentifier(schema)) {
    return MakeError(
        Errc::kInvalidArgument,
        "[sync] schema '" + schema +
            "' is not a valid name (letters, digits and _, not starting with a digit)");
  }
  return "\"" + schema + "\"";
}

core::Expected<std::string> RenderMigrationSql(const std::string& schema, int from_version) {
  auto quoted = QuoteSchemaName(schema);
  if (!quoted) return quoted.error();
  std::string out = "-- bootstrap\n" + Expand(kBootstrapSql, *quoted);
  for (const Migration& m : kMigrations) {
    if (m.version <= from_version) continue;
    out += "\n-- version " + std::to_string(m.version) + ": " + m.description + "\nBEGIN;\n" +
           Expand(m.sql, *quoted) + "INSERT INTO " + *quoted +
           ".schema_migrations (version, description) VALUES (" + std::to_string(m.version) +
           ", '" + m.description + "');\nCOMMIT;\n";
  }
  return out;
}

core::Expected<std::string> RenderGrants(const std::string& schema, const std::string& role) {
  auto quoted = QuoteSchemaName(schema);
  if (!quoted) return quoted.error();
  std::string out = "GRANT USAGE ON SCHEMA " + *quoted + " TO " + role + ";\n";
  std::string tables;
  for (const char* t : kTables) {
    if (!tables.empty()) tables += ", ";
    tables += *quoted + "." + t;
  }
  out += "GRANT SELECT, INSERT, UPDATE ON " + tables + " TO " + role + ";\n";
  out += "GRANT SELECT ON " + *quoted + ".schema_migrations TO " + role + ";\n";
  return out;
}

core::Expected<int> CurrentSchemaVersion(PgConnection& conn, const std::string& schema) {
  auto quoted = QuoteSchemaName(schema);
  if (!quoted) return quoted.error();
  auto exists = conn.Exec("SELECT to_regclass($1) IS NOT NULL", {*quoted + ".schema_migrations"});
  if (!exists) return exists.error();
  if (exists->Value(0, 0) != "t") return 0;
  auto r = conn.Exec("SELECT coalesce(max(version), 0) FROM " + *quoted + ".schema_migrations");
  if (!r) return r.error();
  int version = 0;
  const std::string_view text = r->Value(0, 0);
  std::from_chars(text.data(), text.data() + text.size(), version);
  return version;
}

core::Expected<MigrateReport> MigrateSchema(PgConnection& conn, const std::string& schema) {
  auto quoted = QuoteSchemaName(schema);
  if (!quoted) return quoted.error();
  MigrateReport report;
  auto before = CurrentSchemaVersion(conn, schema);
  if (!before) return before.error();
  report.from_version = *before;
  if (*before > LatestSchemaVersion()) {
    return MakeError(Errc::kUnsupported, "remote schema " + schema + " is at version " +
                                             std::to_string(*before) +
                                             ", newer than this fieldsync knows (" +
                                             std::to_string(LatestSchemaVersion()) + ")");
  }
  if (*before == 0) {
    auto boot = InTransaction(conn, schema, [&]() -> core::Status {
      auto r = conn.Exec(Expand(kBootstrapSql, *quoted));
      if (!r) return r.error().Wrap("creating schema " + schema);
      return core::Ok();
    });
    if (!boot) return boot.error();
  }
  for (const Migration& m : kMigrations) {
    auto applied = InTransaction(conn, schema, [&]() -> core::Status {
      // Checked under the lock: another agent may have applied it meanwhile.
      auto done = conn.Exec("SELECT 1 FROM " + *quoted + ".schema_migrations WHERE version = $1",
                            {std::to_string(m.version)});
      if (!done) return done.error();
      if (done->rows() > 0) return core::Ok();
      if (auto r = conn.Exec(Expand(m.sql, *quoted)); !r) {
        return r.error().Wrap("migration " + std::to_string(m.version));
      }
      auto recorded = conn.Exec(
          "INSERT INTO " + *quoted + ".schema_migrations (version, description) VALUES ($1, $2)",
          {std::to_string(m.version), std::string(m.description)});
      if (!recorded) return recorded.error();
      return core::Ok();
    });
    if (!applied) return applied.error();
  }
  auto steps =
      InTransaction(conn, schema, [&] { return ApplyExtensionSteps(conn, *quoted, report); });
  if (!steps) return steps.error();
  report.to_version = LatestSchemaVersion();
  return report;
}

core::Expected<std::vector<std::string>> MissingPrivileges(PgConnection& conn,
                                                           const std::string& schema) {
  auto quoted = QuoteSchemaName(schema);
  if (!quoted) return quoted.error();
  std::vector<std::string> missing;
  auto ns = conn.Exec(
      "SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = $1", {schema});
  if (!ns) return ns.error();
  if (ns->rows() == 0) {
    missing.push_back("schema " + schema + " does not exist (run `fieldsync remote migrate`)");
    return missing;
  }
  if (ns->Value(0, 0) != "t") missing.push_back("no USAGE on schema " + schema);
  auto temp = conn.Exec("SELECT has_database_privilege(current_database(), 'TEMP')");
  if (!temp) return temp.error();
  if (temp->Value(0, 0) != "t") {
    missing.push_back("no TEMP on this database (uploads stage rows in a temporary table)");
  }
  for (const char* table : kTables) {
    const std::string name = *quoted + "." + table;
    auto r = conn.Exec(
        "SELECT to_regclass($1) IS NOT NULL, "
        "CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE has_table_privilege($1, 'SELECT') END, "
        "CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE has_table_privilege($1, 'INSERT') END, "
        "CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE has_table_privilege($1, 'UPDATE') END",
        {name});
    if (!r) return r.error();
    const std::string display = schema + "." + table;
    if (r->Value(0, 0) != "t") {
      missing.push_back("table " + display + " does not exist (run `fieldsync remote migrate`)");
      continue;
    }
    const char* privileges[] = {"SELECT", "INSERT", "UPDATE"};
    for (int i = 0; i < 3; ++i) {
      if (r->Value(0, i + 1) != "t")
        missing.push_back(std::string("no ") + privileges[i] + " on " + display);
    }
  }
  return missing;
}

}  // namespace fieldsync::sync
