// The SQL that remote migrate prints and runs, checked without a server.
#include <CppUTest/TestHarness.h>

#include <string>

#include "sync/remote_schema.hpp"

using namespace fieldsync::sync;

TEST_GROUP(RemoteSchemaSql){};

TEST(RemoteSchemaSql, SchemaNameIsValidatedAndQuoted) {
  auto bad = RenderMigrationSql("farm; DROP TABLE x", 0);
  CHECK_FALSE(bad.has_value());
  CHECK(bad.error().code == fieldsync::core::Errc::kInvalidArgument);
  auto sql = RenderMigrationSql("farm_2", 0);
  CHECK(sql.has_value());
  CHECK(sql->find("CREATE TABLE \"farm_2\".readings") != std::string::npos);
  CHECK(sql->find("CREATE SCHEMA IF NOT EXISTS \"farm_2\"") != std::string::npos);
}

TEST(RemoteSchemaSql, AllSixTablesWithTheirKeys) {
  auto sql = RenderMigrationSql("fieldsync", 0);
  CHECK(sql.has_value());
  for (const char* table : {"readings", "hourly", "daily", "devices", "metrics", "gateways"}) {
    CHECK_TEXT(sql->find(std::string("\"fieldsync\".") + table + " (") != std::string::npos, table);
  }
  CHECK(sql->find("PRIMARY KEY (gateway, device, metric, ts)") != std::string::npos);
  CHECK(sql->find("PRIMARY KEY (gateway, device, metric, day)") != std::string::npos);
}

TEST(RemoteSchemaSql, UpToDateSchemaNeedsOnlyTheBootstrap) {
  auto sql = RenderMigrationSql("fieldsync", LatestSchemaVersion());
  CHECK(sql.has_value());
  CHECK(sql->find("CREATE TABLE \"fieldsync\".readings") == std::string::npos);
}

TEST(RemoteSchemaSql, GrantsAreLeastPrivilege) {
  auto grants = RenderGrants("fieldsync", "gateway_role");
  CHECK(grants.has_value());
  CHECK(grants->find("GRANT USAGE ON SCHEMA \"fieldsync\" TO gateway_role") != std::string::npos);
  CHECK(grants->find("GRANT SELECT, INSERT, UPDATE ON \"fieldsync\".readings") !=
        std::string::npos);
  CHECK(grants->find("DELETE") == std::string::npos);
  CHECK(grants->find("ALL") == std::string::npos);
  CHECK(grants->find("CREATE") == std::string::npos);
}
