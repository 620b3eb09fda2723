// `fieldsync remote migrate [--dry-run] | check | adopt`: the remote schema of §5, a health check
// of the connection and privileges, and taking over a gateway name.
#include <filesystem>
#include <iostream>

#include "agent/cli.hpp"
#include "agent/command.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"
#include "sync/conninfo.hpp"
#include "sync/gateway_ownership.hpp"
#include "sync/pg_connection.hpp"
#include "sync/remote_schema.hpp"

namespace fieldsync::agent {
namespace {

// The role name printed in the GRANT statements: whoever the gateways log in as.
constexpr const char* kRolePlaceholder = "fieldsync_gateway";

core::Expected<Config> ConfigWithUrl(CommandContext& context) {
  auto config = context.LoadConfig();
  if (!config) return config;
  if (config->sync.url.empty()) {
    return core::MakeError(core::Errc::kInvalidArgument,
                           "no remote configured: set [sync] url, url_file or FIELDSYNC_PG_URL");
  }
  return config;
}

int Fail(const core::Error& error) {
  std::cerr << "fieldsync: " << error.message << "\n";
  return error.code == core::Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

core::Expected<std::string> LocalInstanceId(const Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  core::SystemClock clock;
  auto store = store::Store::Open(config.state_dir, config.store, clock);
  if (!store) return store.error().Wrap("local store");
  return (*store)->instance_id();
}

int Migrate(CommandContext& context, bool dry_run) {
  auto config = ConfigWithUrl(context);
  if (!config) return Fail(config.error());
  const std::string& schema = config->sync.schema;
  auto conn = sync::PgConnection::Connect(config->sync.url, config->sync.op_timeout_s);
  if (dry_run) {
    int from = 0;
    if (conn) {
      auto version = sync::CurrentSchemaVersion(**conn, schema);
      if (version) from = *version;
    } else {
      std::cerr << "fieldsync: " << conn.error().message
                << " (showing the SQL for an empty database)\n";
    }
    auto sql = sync::RenderMigrationSql(schema, from);
    if (!sql) return Fail(sql.error());
    auto grants = sync::RenderGrants(schema, kRolePlaceholder);
    std::cout << *sql << "\n-- grants for the role the gateways log in as:\n" << *grants;
    return kExitOk;
  }
  if (!conn) return Fail(conn.error());
  auto report = sync::MigrateSchema(**conn, schema);
  if (!report) return Fail(report.error());
  if (report->from_version == report->to_version) {
    std::cout << "schema " << schema << " is up to date (version " << report->to_version << ")\n";
  } else {
    std::cout << "schema " << schema << " migrated from version " << report->from_version << " to "
              << report->to_version << "\n";
  }
  for (const auto& note : report->notes) std::cout << note << "\n";
  auto grants = sync::RenderGrants(schema, kRolePlaceholder);
  std::cout << "\nA least-privilege role for the gateways needs (replace " << kRolePlaceholder
            << "):\n"
            << *grants;
  return kExitOk;
}

int Check(CommandContext& context) {
  auto config = ConfigWithUrl(context);
  if (!config) return Fail(config.error());
  const std::string& schema = config->sync.schema;
  std::cout << "remote: " << sync::RedactConninfo(config->sync.url) << "\n";
  if (sync::ConninfoHasPassword(config->sync.url)) {
    std::cout << "warning: the connection string carries a password; prefer .pgpass or a "
                 "service file\n";
  }
  auto conn = sync::PgConnection::Connect(config->sync.url, config->sync.op_timeout_s);
  if (!conn) {
    std::cout << "connection: FAILED: " << conn.error().message << "\n";
    return kExitFailure;
  }
  bool healthy = true;
  auto who = (*conn)->Exec("SELECT current_setting('server_version'), current_user");
  if (!who) return Fail(who.error());
  std::cout << "connection: ok, PostgreSQL " << who->Value(0, 0) << ", role " << who->Value(0, 1)
            << "\n";
  if ((*conn)->server_version() < 120000) {
    std::cout << "server: too old, fieldsync needs PostgreSQL 12 or newer\n";
    healthy = false;
  }
  auto version = sync::CurrentSchemaVersion(**conn, schema);
  if (!version) return Fail(version.error());
  if (*version == 0) {
    std::cout << "schema " << schema << ": not created; run `fieldsync remote migrate`\n";
    healthy = false;
  } else if (*version < sync::LatestSchemaVersion()) {
    std::cout << "schema " << schema << ": version " << *version << ", this fieldsync needs "
              << sync::LatestSchemaVersion() << "; run `fieldsync remote migrate`\n";
    healthy = false;
  } else {
    std::cout << "schema " << schema << ": version " << *version
              << (*version > sync::LatestSchemaVersion() ? " (newer than this fieldsync)" : "")
              << "\n";
  }
  auto missing = sync::MissingPrivileges(**conn, schema);
  if (!missing) return Fail(missing.error());
  if (missing->empty()) {
    std::cout << "privileges: ok\n";
  } else {
    healthy = false;
    for (const auto& line : *missing) std::cout << "privileges: " << line << "\n";
  }
  if (*version > 0 && std::filesystem::exists(config->state_dir + "/fieldsync.db")) {
    auto instance = LocalInstanceId(*config);
    if (!instance) return Fail(instance.error());
    auto owned = sync::CheckGatewayOwnership(**conn, schema, config->gateway, *instance);
    if (owned) {
      std::cout << "gateway " << config->gateway << ": ok (instance " << *instance << ")\n";
    } else {
      std::cout << "gateway " << config->gateway << ": " << owned.error().message << "\n";
      healthy = false;
    }
  }
  return healthy ? kExitOk : kExitFailure;
}

int Adopt(CommandContext& context) {
  auto config = ConfigWithUrl(context);
  if (!config) return Fail(config.error());
  auto instance = LocalInstanceId(*config);
  if (!instance) return Fail(instance.error());
  auto conn = sync::PgConnection::Connect(config->sync.url, config->sync.op_timeout_s);
  if (!conn) return Fail(conn.error());
  auto previous = sync::AdoptGateway(**conn, config->sync.schema, config->gateway, *instance);
  if (!previous) return Fail(previous.error());
  std::cout << "gateway " << config->gateway << " now belongs to instance " << *instance;
  if (*previous && **previous != *instance) std::cout << " (was " << **previous << ")";
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

void RegisterRemoteCommand(CLI::App& app, CommandContext& context) {
  auto* remote = app.add_subcommand("remote", "the central PostgreSQL: schema, check, ownership");
  remote->require_subcommand(1);
  auto* migrate = remote->add_subcommand("migrate", "create or upgrade the remote schema");
  auto dry_run = std::make_shared<bool>(false);
  migrate->add_flag("--dry-run", *dry_run, "print the SQL instead of running it");
  migrate->callback([&context, dry_run] { context.exit_code = Migrate(context, *dry_run); });
  remote->add_subcommand("check", "check connection, server and schema version, privileges")
      ->callback([&context] { context.exit_code = Check(context); });
  remote->add_subcommand("adopt", "take over this gateway name for the local store")
      ->callback([&context] { context.exit_code = Adopt(context); });
}

}  // namespace fieldsync::agent
