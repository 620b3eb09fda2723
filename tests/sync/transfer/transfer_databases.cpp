#include "tests/sync/transfer/transfer_databases.hpp"

#include <unistd.h>

#include <atomic>

// CppUTest last: its leak checker redefines operator new.
#include <CppUTest/TestHarness.h>

namespace fieldsync::testing {
namespace {

sync::PgResult Run(const std::string& url, const std::string& sql) {
  auto conn = sync::PgConnection::Connect(url, 30);
  if (!conn) FAIL(conn.error().message.c_str());
  auto r = (*conn)->Exec(sql);
  if (!r) FAIL((sql + ": " + r.error().message).c_str());
  return std::move(*r);
}

}  // namespace

std::string UrlForDatabase(const std::string& url, const std::string& dbname) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const size_t query = url.find('?');
  std::string out = slash == std::string::npos ? url.substr(0, query) : url.substr(0, slash);
  out += "/" + dbname;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

TransferDatabases::TransferDatabases(std::string admin_url) : admin_url_(std::move(admin_url)) {
  static std::atomic<int> counter{0};
  const std::string base =
      "fstransfer_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  source_name_ = base + "_src";
  target_name_ = base + "_dst";
  for (const auto& name : {source_name_, target_name_}) {
    Run(admin_url_, "DROP DATABASE IF EXISTS " + name);
    Run(admin_url_, "CREATE DATABASE " + name);
  }
  source_url_ = UrlForDatabase(admin_url_, source_name_);
  target_url_ = UrlForDatabase(admin_url_, target_name_);
}

TransferDatabases::~TransferDatabases() {
  auto conn = sync::PgConnection::Connect(admin_url_, 30);
  if (!conn) return;
  for (const auto& name : {source_name_, target_name_}) {
    (void)(*conn)->Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }
}

sync::PgResult TransferDatabases::Source(const std::string& sql) const {
  return Run(source_url_, sql);
}
sync::PgResult TransferDatabases::Target(const std::string& sql) const {
  return Run(target_url_, sql);
}
std::string TransferDatabases::SourceValue(const std::string& sql) const {
  auto r = Source(sql);
  CHECK_EQUAL(1, r.rows());
  return std::string(r.Value(0, 0));
}
std::string TransferDatabases::TargetValue(const std::string& sql) const {
  auto r = Target(sql);
  CHECK_EQUAL(1, r.rows());
  return std::string(r.Value(0, 0));
}

}  // namespace fieldsync::testing
