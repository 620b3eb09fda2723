#include "agent/api_key.hpp"

#include <string>

// CppUTest last: its leak detector redefines operator new.
#include <CppUTest/TestHarness.h>

using namespace fieldsync::agent;

TEST_GROUP(ApiKey){};

TEST(ApiKey, EqualOnlyForTheSameBytes) {
  CHECK(ConstantTimeEquals("s3cret-key", "s3cret-key"));
  CHECK_FALSE(ConstantTimeEquals("s3cret-key", "s3cret-kez"));
  CHECK_FALSE(ConstantTimeEquals("s3cret-key", "t3cret-key"));
}

TEST(ApiKey, PrefixesAndExtensionsAreNotEqual) {
  CHECK_FALSE(ConstantTimeEquals("s3cret-key", "s3cret"));
  CHECK_FALSE(ConstantTimeEquals("s3cret-key", "s3cret-key-and-more"));
  CHECK_FALSE(ConstantTimeEquals("s3cret-key", ""));
  // A repetition of the key has every byte right modulo its length: still refused.
  CHECK_FALSE(ConstantTimeEquals("ab", "abab"));
}

TEST(ApiKey, EmbeddedNulBytesCount) {
  const std::string a("k\0x", 3);
  const std::string b("k\0y", 3);
  CHECK_FALSE(ConstantTimeEquals(a, b));
  CHECK(ConstantTimeEquals(a, a));
}

TEST(ApiKey, CheckDistinguishesNotConfiguredMissingAndWrong) {
  CHECK(CheckApiKey("", std::string_view("anything")) == KeyCheck::kNotConfigured);
  CHECK(CheckApiKey("", std::nullopt) == KeyCheck::kNotConfigured);
  CHECK(CheckApiKey("k1", std::nullopt) == KeyCheck::kMissing);
  CHECK(CheckApiKey("k1", std::string_view("")) == KeyCheck::kMissing);
  CHECK(CheckApiKey("k1", std::string_view("k2")) == KeyCheck::kWrong);
  CHECK(CheckApiKey("k1", std::string_view("k1")) == KeyCheck::kOk);
}
