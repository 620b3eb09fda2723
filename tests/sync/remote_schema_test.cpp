// remote migrate / check / adopt against a real PostgreSQL.
#include "sync/remote_schema.hpp"

#include <CppUTest/TestHarness.h>
#include <unistd.h>

#include "sync/gateway_ownership.hpp"
#include "tests/sync/pg_test_schema.hpp"

using fieldsync::core::Errc;
using namespace fieldsync::sync;
using fieldsync::testing::PgTestSchema;
using fieldsync::testing::TestPgUrl;

namespace {

// Every column of every table in the schema, plus the recorded migrations: what "changes
// nothing" is measured against.
std::string Snapshot(const PgTestSchema& db) {
  auto cols = db.Exec(
      "SELECT string_agg(table_name || '.' || column_name || ':' || data_type || ':' || "
      "is_nullable, ',' ORDER BY table_name, ordinal_position) FROM information_schema.columns "
      "WHERE table_schema = '" +
      db.name() + "'");
  auto migrations = db.Exec("SELECT string_agg(version || '@' || applied_at, ',') FROM \"" +
                            db.name() + "\".schema_migrations");
  return std::string(cols.Value(0, 0)) + "|" + std::string(migrations.Value(0, 0));
}

}  // namespace

TEST_GROUP(RemoteSchema){};

TEST(RemoteSchema, MigrateCreatesTheSchemaAndIsIdempotent) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  auto before = CurrentSchemaVersion(*conn, db.name());
  CHECK(before.has_value());
  LONGS_EQUAL(0, *before);

  auto first = MigrateSchema(*conn, db.name());
  CHECK_TEXT(first.has_value(), first ? "" : first.error().message.c_str());
  LONGS_EQUAL(0, first->from_version);
  LONGS_EQUAL(LatestSchemaVersion(), first->to_version);
  const std::string after_first = Snapshot(db);
  CHECK(after_first.find("readings.ts:timestamp with time zone:NO") != std::string::npos);
  CHECK(after_first.find("daily.tz:text:YES") != std::string::npos);
  CHECK(after_first.find("gateways.clock_synced:boolean:YES") != std::string::npos);

  auto second = MigrateSchema(*conn, db.name());
  CHECK(second.has_value());
  LONGS_EQUAL(LatestSchemaVersion(), second->from_version);
  STRCMP_EQUAL(after_first.c_str(), Snapshot(db).c_str());
}

TEST(RemoteSchema, NewerRemoteSchemaIsRefused) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  CHECK(MigrateSchema(*conn, db.name()).has_value());
  db.Exec("INSERT INTO \"" + db.name() + "\".schema_migrations VALUES (999, 'future')");
  auto r = MigrateSchema(*conn, db.name());
  CHECK(!r && r.error().code == Errc::kUnsupported);
}

TEST(RemoteSchema, MissingPrivilegesAreSaidInPlainWords) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  auto unmigrated = MissingPrivileges(*conn, db.name());
  CHECK(unmigrated.has_value());
  LONGS_EQUAL(1, unmigrated->size());
  CHECK(unmigrated->front().find("does not exist") != std::string::npos);

  CHECK(MigrateSchema(*conn, db.name()).has_value());
  auto owner = MissingPrivileges(*conn, db.name());
  CHECK(owner.has_value());
  CHECK(owner->empty());

  const std::string role = "fsrole_" + std::to_string(getpid());
  db.Exec("DROP ROLE IF EXISTS " + role + "; CREATE ROLE " + role);
  auto grants = RenderGrants(db.name(), role);
  db.Exec("GRANT USAGE ON SCHEMA \"" + db.name() + "\" TO " + role);
  CHECK(conn->Exec("SET ROLE " + role).has_value());
  auto none = MissingPrivileges(*conn, db.name());
  CHECK(none.has_value());
  LONGS_EQUAL(18, none->size());  // SELECT, INSERT, UPDATE on six tables
  CHECK(none->front() == "no SELECT on " + db.name() + ".readings");
  CHECK(conn->Exec("RESET ROLE").has_value());

  db.Exec(*grants);  // the printed grants are exactly enough
  CHECK(conn->Exec("SET ROLE " + role).has_value());
  auto granted = MissingPrivileges(*conn, db.name());
  CHECK(granted.has_value());
  CHECK(granted->empty());
  CHECK(conn->Exec("RESET ROLE").has_value());
  db.Exec("DROP OWNED BY " + role + "; DROP ROLE " + role);
}

TEST(RemoteSchema, GatewayNameBelongsToOneInstanceUntilAdopted) {
  auto url = TestPgUrl();
  if (!url) return;
  PgTestSchema db(*url);
  auto conn = db.Connect();
  CHECK(MigrateSchema(*conn, db.name()).has_value());
  CHECK(CheckGatewayOwnership(*conn, db.name(), "gh-1", "instance-a").has_value());
  auto first = AdoptGateway(*conn, db.name(), "gh-1", "instance-a");
  CHECK(first.has_value() && !first->has_value());

  auto refused = CheckGatewayOwnership(*conn, db.name(), "gh-1", "instance-b");
  CHECK(!refused && refused.error().code == Errc::kConflict);
  CHECK(refused.error().message.find("remote adopt") != std::string::npos);
  CHECK(CheckGatewayOwnership(*conn, db.name(), "gh-2", "instance-b").has_value());

  auto adopted = AdoptGateway(*conn, db.name(), "gh-1", "instance-b");
  CHECK(adopted.has_value());
  STRCMP_EQUAL("instance-a", adopted->value().c_str());
  CHECK(CheckGatewayOwnership(*conn, db.name(), "gh-1", "instance-b").has_value());
  CHECK(!CheckGatewayOwnership(*conn, db.name(), "gh-1", "instance-a"));
}
