// Every kind of configuration mistake names the full key and its line.
#include <string>

#include "store/time_zone.hpp"
#include "tests/agent/config_test_support.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::testing::ConfigError;

// The tz database is loaded once per process and kept: load it before the tests run so that the
// leak detector does not count it against the first test that names a zone.
static const bool kTimeZonesLoaded = fieldsync::store::TimeZone::FromName("UTC").has_value();

namespace {

// Fails with the whole message when `needle` is missing, so a regression shows what was said.
void CheckMentions(const std::string& message, const std::string& needle) {
  if (message.find(needle) == std::string::npos) {
    FAIL(("expected \"" + needle + "\" in: \"" + message + "\"").c_str());
  }
}

}  // namespace

TEST_GROUP(ConfigErrors){};

TEST(ConfigErrors, UnknownTopLevelKey) {
  std::string e = ConfigError("gateway = \"g\"\ngatway_name = \"x\"\n");
  CheckMentions(e, "/etc/fs/test.toml:2: key 'gatway_name': unknown key");
}

TEST(ConfigErrors, UnknownKeyInsideAnInputNamesItsIndex) {
  std::string e = ConfigError(
      "gateway = \"g\"\n"
      "[[serial]]\nname = \"a\"\nport = \"/dev/ttyACM0\"\n"
      "[[serial]]\nname = \"b\"\nport = \"/dev/ttyACM1\"\nbaudrate = 9600\n");
  CheckMentions(e, "test.toml:8: key 'serial[1].baudrate': unknown key");
}

TEST(ConfigErrors, WrongType) {
  std::string e = ConfigError("gateway = \"g\"\n[store]\nmax_mb = \"1024\"\n");
  CheckMentions(e, "test.toml:3: key 'store.max_mb': expected an integer, got a string");
}

TEST(ConfigErrors, OutOfRangeInteger) {
  std::string e = ConfigError("gateway = \"g\"\n[sync]\nbatch_size = 0\n");
  CheckMentions(e, "test.toml:3: key 'sync.batch_size': expected an integer in 1..1000000");
}

TEST(ConfigErrors, UnknownEnumValueListsTheChoices) {
  std::string e = ConfigError("gateway = \"g\"\n[store]\non_full = \"drop_newest\"\n");
  CheckMentions(e, "test.toml:3: key 'store.on_full': expected one of drop_oldest | reject_new");
}

TEST(ConfigErrors, UnsupportedBaudRate) {
  std::string e = ConfigError(
      "gateway = \"g\"\n[[serial]]\nname = \"a\"\nport = \"/dev/ttyUSB0\"\nbaud = 115201\n");
  CheckMentions(e, "test.toml:5: key 'serial[0].baud': expected a baud rate");
}

TEST(ConfigErrors, CriticalWithCriticalMarginNamesTheQuotedMetric) {
  std::string e = ConfigError(
      "gateway = \"g\"\n[metrics.\"dc.v1\"]\noptimal = [220, 240]\ncritical = [200, 250]\n"
      "critical_margin = 0.1\n");
  CheckMentions(e, "test.toml:5: key 'metrics.\"dc.v1\".critical_margin': cannot be combined");
  CheckMentions(e, "(line 4)");
}

TEST(ConfigErrors, OptimalLowAboveHigh) {
  std::string e = ConfigError("gateway = \"g\"\n[metrics.t]\noptimal = [30, 20]\n");
  CheckMentions(e, "test.toml:3: key 'metrics.t.optimal': expected [low, high] with low <= high");
}

TEST(ConfigErrors, CriticalInsideOptimalIsRefused) {
  std::string e =
      ConfigError("gateway = \"g\"\n[metrics.t]\noptimal = [18, 26]\ncritical = [20, 30]\n");
  CheckMentions(e, "test.toml:4: key 'metrics.t.critical': expected bounds around");
}

TEST(ConfigErrors, CriticalWithoutOptimal) {
  std::string e = ConfigError("gateway = \"g\"\n[metrics.t]\ncritical = [10, 30]\n");
  CheckMentions(e, "test.toml:3: key 'metrics.t.critical': needs 'optimal");
}

TEST(ConfigErrors, MissingGateway) {
  std::string e = ConfigError("state_dir = \"/tmp/x\"\n");
  CheckMentions(e, "/etc/fs/test.toml: key 'gateway': required");
}

TEST(ConfigErrors, InvalidGatewayName) {
  std::string e = ConfigError("gateway = \"green house\"\n");
  CheckMentions(e, "test.toml:1: key 'gateway': expected 1-64 characters");
}

TEST(ConfigErrors, MissingSecretFileNamesKeyLineAndPath) {
  std::string e = ConfigError(
      "gateway = \"g\"\n[[mqtt]]\nname = \"b\"\ntopics = [\"t/{device}\"]\n"
      "password_file = \"/nonexistent/mqtt-password\"\n");
  CheckMentions(e,
                "test.toml:5: key 'mqtt[0].password_file': cannot read secret file "
                "'/nonexistent/mqtt-password'");
}

TEST(ConfigErrors, UrlAndUrlFileTogether) {
  std::string e =
      ConfigError("gateway = \"g\"\n[sync]\nurl = \"postgresql://h/db\"\nurl_file = \"pg_url\"\n");
  CheckMentions(e, "test.toml:4: key 'sync.url_file': cannot be combined with 'sync.url'");
}

TEST(ConfigErrors, BadTopicTemplate) {
  std::string e =
      ConfigError("gateway = \"g\"\n[[mqtt]]\nname = \"b\"\ntopics = [\"sensors/x{device}\"]\n");
  CheckMentions(e, "test.toml:4: key 'mqtt[0].topics':");
}

TEST(ConfigErrors, DuplicateInputNames) {
  std::string e = ConfigError(
      "gateway = \"g\"\n[[serial]]\nname = \"a\"\nport = \"/dev/ttyACM0\"\n"
      "[[mqtt]]\nname = \"a\"\ntopics = [\"t/{device}\"]\n");
  CheckMentions(e, "test.toml:5: key 'mqtt[0].name': \"a\" is already used");
}

TEST(ConfigErrors, CsvNeedsFields) {
  std::string e = ConfigError(
      "gateway = \"g\"\n[[serial]]\nname = \"a\"\nport = \"/dev/ttyACM0\"\nformat = \"csv\"\n");
  CheckMentions(e, "test.toml:2: key 'serial[0].fields': required with format = \"csv\"");
}

TEST(ConfigErrors, SerialAsPlainTableIsRefused) {
  std::string e = ConfigError("gateway = \"g\"\n[serial]\nname = \"a\"\n");
  CheckMentions(e, "key 'serial': expected [[serial]] tables");
}

TEST(ConfigErrors, TomlSyntaxErrorHasItsLine) {
  std::string e = ConfigError("gateway = \"g\"\n[store\n");
  CheckMentions(e, "test.toml:2: not valid TOML");
}

TEST(ConfigErrors, UnknownTimeZone) {
  std::string e = ConfigError("gateway = \"g\"\n[aggregate]\ntimezone = \"Europe/Atlantis\"\n");
  CheckMentions(e, "test.toml:3: key 'aggregate.timezone': expected an IANA time zone name");
}

TEST(ConfigErrors, InvalidMetricName) {
  std::string e = ConfigError("gateway = \"g\"\n[metrics.\"temp:1\"]\nunit = \"C\"\n");
  CheckMentions(e, "test.toml:2: key 'metrics.\"temp:1\"': not a valid metric name");
}
