#pragma once
// Two throwaway databases (source and target) on the server of $FIELDSYNC_TEST_PGURL, created
// with names unique to this process and dropped afterwards.

#include <memory>
#include <optional>
#include <string>

#include "sync/pg_connection.hpp"

namespace fieldsync::testing {

// $FIELDSYNC_TEST_PGURL with its database replaced by `dbname`.
std::string UrlForDatabase(const std::string& url, const std::string& dbname);

class TransferDatabases {
 public:
  explicit TransferDatabases(std::string admin_url);  // CREATE DATABASE twice
  ~TransferDatabases();                               // DROP DATABASE ... WITH (FORCE)
  const std::string& source_url() const { return source_url_; }
  const std::string& target_url() const { return target_url_; }
  // Runs SQL on a fresh connection to that side; fails the test on error.
  sync::PgResult Source(const std::string& sql) const;
  sync::PgResult Target(const std::string& sql) const;
  // The single value of a one-row, one-column query.
  std::string SourceValue(const std::string& sql) const;
  std::string TargetValue(const std::string& sql) const;

 private:
  std::string admin_url_;
  std::string source_name_, target_name_;
  std::string source_url_, target_url_;
};

}  // namespace fieldsync::testing
