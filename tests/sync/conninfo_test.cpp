#include "sync/conninfo.hpp"

#include <CppUTest/TestHarness.h>

#include <algorithm>
#include <string>

using namespace fieldsync::sync;

namespace {

bool HasParam(const std::vector<std::pair<std::string, std::string>>& params,
              const std::string& key, const std::string& value) {
  return std::find(params.begin(), params.end(), std::make_pair(key, value)) != params.end();
}

bool HasKey(const std::vector<std::pair<std::string, std::string>>& params,
            const std::string& key) {
  return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == key; });
}

}  // namespace

TEST_GROUP(Conninfo){};

TEST(Conninfo, UrlPasswordIsMasked) {
  const std::string shown = RedactConninfo("postgresql://agent:s3cr%40t@db.example:5432/farm");
  STRCMP_EQUAL("postgresql://agent:***@db.example:5432/farm", shown.c_str());
  CHECK(shown.find("s3cr") == std::string::npos);
}

TEST(Conninfo, UrlPasswordQueryParameterIsMasked) {
  const std::string shown =
      RedactConninfo("postgres://db/farm?sslmode=verify-full&password=hunter2&user=a");
  STRCMP_EQUAL("postgres://db/farm?sslmode=verify-full&password=***&user=a", shown.c_str());
}

TEST(Conninfo, UrlWithRawSlashInPasswordStillMasked) {
  const std::string shown = RedactConninfo("postgresql://u:pa/ss@h/db");
  CHECK(shown.find("pa/ss") == std::string::npos);
  STRCMP_EQUAL("postgresql://u:***@h/db", shown.c_str());
}

TEST(Conninfo, UrlWithoutPasswordIsUnchanged) {
  STRCMP_EQUAL("postgresql://agent@db/farm?sslmode=require",
               RedactConninfo("postgresql://agent@db/farm?sslmode=require").c_str());
  CHECK_FALSE(ConninfoHasPassword("postgresql://agent@db/farm"));
  CHECK(ConninfoHasPassword("postgresql://agent:x@db/farm"));
}

TEST(Conninfo, KeyValuePasswordIsMaskedQuotedOrNot) {
  STRCMP_EQUAL("host=db user=a password=*** dbname=farm",
               RedactConninfo("host=db user=a password=hunter2 dbname=farm").c_str());
  const std::string quoted = RedactConninfo("host=db password = 'it\\'s secret' port=5432");
  CHECK(quoted.find("secret") == std::string::npos);
  CHECK(quoted.find("port=5432") != std::string::npos);
  CHECK(ConninfoHasPassword("password=x"));
  CHECK_FALSE(ConninfoHasPassword("host=db"));
}

TEST(Conninfo, UnparsableStringIsNotEchoed) {
  const std::string shown = RedactConninfo("host=db password='unterminated secret");
  CHECK(shown.find("secret") == std::string::npos);
}

TEST(Conninfo, DefaultsComeFirstAndUserStringLast) {
  const auto params = ConnectParams("postgresql://db/farm", 30, "");
  CHECK(HasParam(params, "keepalives", "1"));
  CHECK(HasParam(params, "tcp_user_timeout", "30000"));
  CHECK(HasParam(params, "connect_timeout", "10"));
  STRCMP_EQUAL("dbname", params.back().first.c_str());
  STRCMP_EQUAL("postgresql://db/farm", params.back().second.c_str());
}

TEST(Conninfo, UserSettingsAreNotOverridden) {
  const auto params = ConnectParams("host=db keepalives_idle=99 connect_timeout=3", 30, "");
  CHECK_FALSE(HasKey(params, "keepalives_idle"));
  CHECK_FALSE(HasKey(params, "connect_timeout"));
  CHECK(HasKey(params, "keepalives_interval"));
  const auto url_params = ConnectParams("postgresql://db/farm?tcp_user_timeout=5000", 30, "");
  CHECK_FALSE(HasKey(url_params, "tcp_user_timeout"));
}

TEST(Conninfo, EnvironmentConnectTimeoutWins) {
  CHECK_FALSE(HasKey(ConnectParams("host=db", 30, "7"), "connect_timeout"));
  CHECK(HasParam(ConnectParams("host=db", 4, ""), "connect_timeout", "4"));
}
