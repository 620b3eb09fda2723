// Secrets: from *_file keys (relative to $CREDENTIALS_DIRECTORY or the config's directory), from
// the environment, and never shown by RenderEffectiveConfig.
#include "agent/config.hpp"
#include "tests/agent/config_test_support.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using fieldsync::testing::FakeEnvironment;
using fieldsync::testing::TempDir;
using fieldsync::testing::WriteFile;

namespace {

constexpr const char* kPgUrl = "postgresql://fieldsync:s3cr3t-pw@db.example:5432/farm";

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_GROUP(ConfigSecrets) { TempDir dir; };

TEST(ConfigSecrets, RelativeFileResolvedAgainstCredentialsDirectory) {
  WriteFile(dir.File("pg_url"), std::string(kPgUrl) + "\n");
  auto config = agent::ParseConfig("gateway = \"g\"\n[sync]\nurl_file = \"pg_url\"\n",
                                   "/elsewhere/fieldsync.toml",
                                   FakeEnvironment({{"CREDENTIALS_DIRECTORY", dir.path()}}));
  if (!config) FAIL(config.error().message.c_str());
  STRCMP_EQUAL(kPgUrl, config->sync.url.c_str());  // trailing newline trimmed
}

TEST(ConfigSecrets, RelativeFileWithoutCredentialsDirectoryIsNextToTheConfig) {
  WriteFile(dir.File("mqtt.pw"), "hunter2\n");
  auto config = agent::ParseConfig(
      "gateway = \"g\"\n[[mqtt]]\nname = \"b\"\ntopics = [\"t/{device}\"]\n"
      "password_file = \"mqtt.pw\"\n",
      dir.File("fieldsync.toml"), FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  STRCMP_EQUAL("hunter2", config->mqtt[0].password.c_str());
}

TEST(ConfigSecrets, MissingRelativeFileReportsTheResolvedPath) {
  auto config =
      agent::ParseConfig("gateway = \"g\"\n[http]\napi_key_file = \"api.key\"\n", "t.toml",
                         FakeEnvironment({{"CREDENTIALS_DIRECTORY", dir.path()}}));
  CHECK_FALSE(config.has_value());
  CHECK(Contains(config.error().message, "t.toml:3: key 'http.api_key_file'"));
  CHECK(Contains(config.error().message, dir.path() + "/api.key"));
}

TEST(ConfigSecrets, EmptySecretFileIsAnError) {
  WriteFile(dir.File("empty"), "\n");
  auto config =
      agent::ParseConfig("gateway = \"g\"\n[http]\napi_key_file = \"" + dir.File("empty") + "\"\n",
                         "t.toml", FakeEnvironment());
  CHECK_FALSE(config.has_value());
  CHECK(Contains(config.error().message, "is empty"));
}

TEST(ConfigSecrets, SecretFileOfSixtyFourKibIsAccepted) {
  const std::string secret(64 * 1024, 'k');
  WriteFile(dir.File("big.key"), secret);
  auto config = agent::ParseConfig(
      "gateway = \"g\"\n[http]\napi_key_file = \"" + dir.File("big.key") + "\"\n", "t.toml",
      FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  CHECK(config->http.api_key == secret);
}

TEST(ConfigSecrets, SecretFileOverSixtyFourKibIsAnErrorNamingKeyAndPath) {
  WriteFile(dir.File("huge.key"), std::string(64 * 1024 + 1, 'k'));
  auto config = agent::ParseConfig(
      "gateway = \"g\"\n[http]\napi_key_file = \"" + dir.File("huge.key") + "\"\n", "t.toml",
      FakeEnvironment());
  CHECK_FALSE(config.has_value());
  CHECK(Contains(config.error().message, "t.toml:3: key 'http.api_key_file'"));
  CHECK(Contains(config.error().message, dir.File("huge.key")));
  CHECK(Contains(config.error().message, "larger than 64 KiB"));
}

TEST(ConfigSecrets, EndlessSecretFileIsRefusedInsteadOfReadForever) {
  // A character device that never reaches end of file: reading must stop at the cap.
  auto config = agent::ParseConfig("gateway = \"g\"\n[sync]\nurl_file = \"/dev/zero\"\n", "t.toml",
                                   FakeEnvironment());
  CHECK_FALSE(config.has_value());
  CHECK(Contains(config.error().message, "'/dev/zero' is larger than 64 KiB"));
}

TEST(ConfigSecrets, EnvironmentFillsWhatTheFileLeavesUnset) {
  auto config = agent::ParseConfig(
      "gateway = \"g\"\n", "t.toml",
      FakeEnvironment({{"FIELDSYNC_PG_URL", kPgUrl}, {"FIELDSYNC_API_KEY", "k-123"}}));
  if (!config) FAIL(config.error().message.c_str());
  STRCMP_EQUAL(kPgUrl, config->sync.url.c_str());
  STRCMP_EQUAL("k-123", config->http.api_key.c_str());
}

TEST(ConfigSecrets, FileWinsOverEnvironment) {
  WriteFile(dir.File("key"), "from-file");
  auto config = agent::ParseConfig(
      "gateway = \"g\"\n[http]\napi_key_file = \"" + dir.File("key") +
          "\"\n"
          "[sync]\nurl = \"host=db dbname=farm\"\n",
      "t.toml", FakeEnvironment({{"FIELDSYNC_PG_URL", kPgUrl}, {"FIELDSYNC_API_KEY", "from-env"}}));
  if (!config) FAIL(config.error().message.c_str());
  STRCMP_EQUAL("from-file", config->http.api_key.c_str());
  STRCMP_EQUAL("host=db dbname=farm", config->sync.url.c_str());
}

TEST(ConfigSecrets, RenderNeverShowsSecrets) {
  WriteFile(dir.File("pg_url"), kPgUrl);
  WriteFile(dir.File("mqtt.pw"), "hunter2");
  auto config = agent::ParseConfig(
      "gateway = \"g\"\n[[mqtt]]\nname = \"b\"\ntopics = [\"t/{device}\"]\n"
      "password_file = \"mqtt.pw\"\n[sync]\nurl_file = \"pg_url\"\n",
      "t.toml",
      FakeEnvironment({{"CREDENTIALS_DIRECTORY", dir.path()}, {"FIELDSYNC_API_KEY", "k-123"}}));
  if (!config) FAIL(config.error().message.c_str());
  std::string text = agent::RenderEffectiveConfig(*config);
  CHECK_FALSE(Contains(text, "s3cr3t-pw"));
  CHECK_FALSE(Contains(text, "db.example"));
  CHECK_FALSE(Contains(text, "hunter2"));
  CHECK_FALSE(Contains(text, "k-123"));
  CHECK(Contains(text, "url = \"(redacted)\""));
  CHECK(Contains(text, "url_file = \"" + dir.path() + "/pg_url\""));
  CHECK(Contains(text, "password_file = \"" + dir.path() + "/mqtt.pw\"  # password (redacted)"));
  CHECK(Contains(text, "api_key_file = \"\"  # api key (redacted), from $FIELDSYNC_API_KEY"));
}

TEST(ConfigSecrets, RenderSaysUnsetWhenThereIsNoSecret) {
  auto config = agent::ParseConfig("gateway = \"g\"\n", "t.toml", FakeEnvironment());
  if (!config) FAIL(config.error().message.c_str());
  std::string text = agent::RenderEffectiveConfig(*config);
  CHECK(Contains(text, "url = \"(unset)\""));
  CHECK(Contains(text, "api_key_file = \"\"  # api key (unset)"));
}

TEST(ConfigSecrets, RenderedConfigReadsBackToTheSameSettings) {
  auto first = agent::LoadConfig(FIELDSYNC_TEST_DATA_DIR "/spec_example.toml", FakeEnvironment());
  if (!first) FAIL(first.error().message.c_str());
  // Without secrets the rendering is itself a valid config (url "(unset)" aside).
  std::string text = agent::RenderEffectiveConfig(*first);
  auto pos = text.find("url = \"(unset)\"");
  CHECK(pos != std::string::npos);
  text.replace(pos, std::string("url = \"(unset)\"").size(), "url = \"\"");
  auto second = agent::ParseConfig(text, "rendered.toml", FakeEnvironment());
  if (!second) FAIL(second.error().message.c_str());
  auto body = [](const std::string& rendered) { return rendered.substr(rendered.find('\n')); };
  STRCMP_EQUAL(body(agent::RenderEffectiveConfig(*first)).c_str(),
               body(agent::RenderEffectiveConfig(*second)).c_str());
}
