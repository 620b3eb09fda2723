#pragma once
// Integration tests against the PostgreSQL named by $FIELDSYNC_TEST_PGURL: each test gets its
// own schema, dropped afterwards, so tests are independent of each other and of earlier runs.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sync/pg_connection.hpp"

namespace fieldsync::testing {

// $FIELDSYNC_TEST_PGURL, or nullopt after printing "SKIPPED: FIELDSYNC_TEST_PGURL not set" once.
std::optional<std::string> TestPgUrl();

// `url` as a key=value string with some keys replaced (e.g. host/port of a proxy, another user).
std::string ConninfoWith(const std::string& url,
                         const std::vector<std::pair<std::string, std::string>>& overrides);

// Host and port of a libpq URL (for a proxy in front of it).
std::pair<std::string, int> PgTarget(const std::string& url);

// A libpq connection string for `url` through a proxy on 127.0.0.1:`port`.
std::string PgThroughProxy(const std::string& url, int port);

class PgTestSchema {
 public:
  explicit PgTestSchema(std::string url);  // creates nothing yet; name is unique per process
  ~PgTestSchema();                         // DROP SCHEMA ... CASCADE
  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }
  // A fresh admin connection; fails the test if it cannot connect.
  std::unique_ptr<sync::PgConnection> Connect(std::int64_t op_timeout_s = 10) const;
  // Runs SQL on an admin connection; fails the test on error. Returns the result.
  sync::PgResult Exec(const std::string& sql) const;

 private:
  std::string url_;
  std::string name_;
};

}  // namespace fieldsync::testing
