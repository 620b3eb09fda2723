#include "tests/sync/pg_test_schema.hpp"

#include <libpq-fe.h>

#include "sync/pg_handles.hpp"

#include <CppUTest/TestHarness.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace fieldsync::testing {

std::optional<std::string> TestPgUrl() {
  const char* url = std::getenv("FIELDSYNC_TEST_PGURL");
  if (url != nullptr && *url != '\0') return std::string(url);
  static bool said = false;
  if (!said) {
    std::fprintf(stderr, "\nSKIPPED: FIELDSYNC_TEST_PGURL not set\n");
    said = true;
  }
  return std::nullopt;
}

std::string ConninfoWith(const std::string& url,
                         const std::vector<std::pair<std::string, std::string>>& overrides) {
  char* err = nullptr;
  sync::PgConninfoPtr options(PQconninfoParse(url.c_str(), &err));
  if (err != nullptr) PQfreemem(err);
  std::string out;
  for (const auto& [key, value] : overrides) out += key + "='" + value + "' ";
  for (const PQconninfoOption* o = options.get(); o && o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    bool replaced = false;
    for (const auto& kv : overrides) replaced = replaced || kv.first == o->keyword;
    if (!replaced) out += std::string(o->keyword) + "='" + o->val + "' ";
  }
  return out;
}

PgTestSchema::PgTestSchema(std::string url) : url_(std::move(url)) {
  static std::atomic<int> counter{0};
  name_ = "fstest_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  auto conn = Connect();
  auto r = conn->Exec("DROP SCHEMA IF EXISTS \"" + name_ + "\" CASCADE");
  if (!r) FAIL(r.error().message.c_str());
}

PgTestSchema::~PgTestSchema() {
  auto conn = sync::PgConnection::Connect(url_, 10);
  if (conn) (void)(*conn)->Exec("DROP SCHEMA IF EXISTS \"" + name_ + "\" CASCADE");
}

std::unique_ptr<sync::PgConnection> PgTestSchema::Connect(std::int64_t op_timeout_s) const {
  auto conn = sync::PgConnection::Connect(url_, op_timeout_s);
  if (!conn) FAIL(conn.error().message.c_str());
  return std::move(*conn);
}

sync::PgResult PgTestSchema::Exec(const std::string& sql) const {
  auto conn = Connect();
  auto r = conn->Exec(sql);
  if (!r) FAIL((sql + ": " + r.error().message).c_str());
  return std::move(*r);
}

std::pair<std::string, int> PgTarget(const std::string& url) {
  char* err = nullptr;
  sync::PgConninfoPtr options(PQconninfoParse(url.c_str(), &err));
  if (err != nullptr) PQfreemem(err);
  std::string host = "127.0.0.1";
  int port = 5432;
  for (const PQconninfoOption* o = options.get(); o && o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::string(o->keyword) == "host" && o->val[0] != '/') host = o->val;
    if (std::string(o->keyword) == "port") port = std::stoi(o->val);
  }
  return {host, port};
}

std::string PgThroughProxy(const std::string& url, int port) {
  // hostaddr would bypass the proxy: it is replaced along with host and port.
  return ConninfoWith(
      url, {{"host", "127.0.0.1"}, {"hostaddr", "127.0.0.1"}, {"port", std::to_string(port)}});
}

}  // namespace fieldsync::testing
