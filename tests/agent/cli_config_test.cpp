// The built binary: --version, --help, usage errors and `config check` with their exit codes.
#include <string>

#include "tests/agent/command_runner.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::testing::CommandOutput;
using fieldsync::testing::RunFieldsync;
using fieldsync::testing::TempDir;
using fieldsync::testing::WriteFile;

namespace {

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

const std::string kExample = FIELDSYNC_TEST_DATA_DIR "/spec_example.toml";

}  // namespace

TEST_GROUP(CliConfig) { TempDir dir; };

TEST(CliConfig, VersionPrintsTheVersion) {
  CommandOutput r = RunFieldsync(dir, "--version");
  LONGS_EQUAL(0, r.exit_code);
  CHECK(Contains(r.out, "fieldsync " FIELDSYNC_VERSION));
}

TEST(CliConfig, HelpWorksOnSubcommands) {
  CommandOutput r = RunFieldsync(dir, "config check --help");
  LONGS_EQUAL(0, r.exit_code);
  CHECK(Contains(r.out, "secrets redacted"));
}

TEST(CliConfig, NoCommandIsAUsageError) {
  CommandOutput r = RunFieldsync(dir, "");
  LONGS_EQUAL(2, r.exit_code);
}

TEST(CliConfig, MistypedCommandIsNamed) {
  CommandOutput r = RunFieldsync(dir, "stauts");
  LONGS_EQUAL(2, r.exit_code);
  CHECK(Contains(r.err, "unknown command 'stauts'"));
}

TEST(CliConfig, UnknownOptionIsAUsageError) {
  CommandOutput r = RunFieldsync(dir, "config check --frobnicate");
  LONGS_EQUAL(2, r.exit_code);
  CHECK(Contains(r.err, "--frobnicate"));
}

TEST(CliConfig, CheckOfTheExamplePrintsSettingsWithoutSecrets) {
  WriteFile(dir.File("pw"), "hunter2\n");
  CommandOutput r = RunFieldsync(dir, "--config '" + kExample + "' config check",
                                 "FIELDSYNC_PG_URL='postgresql://u:s3cr3t@db/farm'");
  LONGS_EQUAL(0, r.exit_code);
  CHECK(Contains(r.out, "gateway = \"greenhouse-1\""));
  CHECK(Contains(r.out, "baud = 115200"));
  CHECK(Contains(r.out, "critical = [14.4, 31.2]"));
  CHECK(Contains(r.out, "url = \"(redacted)\"  # from $FIELDSYNC_PG_URL"));
  CHECK_FALSE(Contains(r.out + r.err, "s3cr3t"));
}

TEST(CliConfig, ConfigFromTheEnvironmentVariable) {
  CommandOutput r = RunFieldsync(dir, "config check", "FIELDSYNC_CONFIG='" + kExample + "'");
  LONGS_EQUAL(0, r.exit_code);
  CHECK(Contains(r.out, "from " + kExample));
}

TEST(CliConfig, BrokenConfigExitsTwoWithKeyAndLine) {
  WriteFile(dir.File("broken.toml"),
            "gateway = \"g\"\n\n[[serial]]\nname = \"a\"\nport = \"/dev/ttyACM0\"\n"
            "baud = 115201\n");
  CommandOutput r = RunFieldsync(dir, "--config '" + dir.File("broken.toml") + "' config check");
  LONGS_EQUAL(2, r.exit_code);
  CHECK(Contains(r.err, dir.File("broken.toml") + ":6: key 'serial[0].baud'"));
  STRCMP_EQUAL("", r.out.c_str());
}

TEST(CliConfig, MissingConfigFileExitsTwo) {
  CommandOutput r = RunFieldsync(dir, "--config '" + dir.File("nope.toml") + "' config check");
  LONGS_EQUAL(2, r.exit_code);
  CHECK(Contains(r.err, "cannot read configuration"));
}

TEST(CliConfig, WarningsGoToStderrAndStillExitZero) {
  WriteFile(dir.File("normal.toml"), "gateway = \"g\"\n[store]\nsynchronous = \"normal\"\n");
  CommandOutput r = RunFieldsync(dir, "--config '" + dir.File("normal.toml") + "' config check");
  LONGS_EQUAL(0, r.exit_code);
  CHECK(Contains(r.err, "warning: HTTP answers 202"));
}
