// The fetched profiles survive a restart: saved through one connection, read through another.
#include "store/profile_cache.hpp"

#include "tests/support/temp_dir.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldsync;

TEST_GROUP(ProfileCache) { testing::TempDir dir; };

TEST(ProfileCache, ASavedSetIsReadBackAfterReopeningAndASecondSaveReplacesIt) {
  const std::string path = dir.File("fieldsync.db");
  {
    auto db = store::Database::Open(path);
    CHECK(db.has_value());
    auto cache = store::ProfileCache::Open(**db);
    CHECK(cache.has_value());
    CHECK(cache->Save({{"t", {18.0, 26.0, 14.4, 31.2}}, {"rh", {40.0, 60.0, 32.0, 72.0}}}, 1000)
              .has_value());
  }
  auto db = store::Database::Open(path);
  CHECK(db.has_value());
  auto cache = store::ProfileCache::Open(**db);
  CHECK(cache.has_value());
  auto loaded = cache->Load();
  CHECK(loaded.has_value());
  LONGS_EQUAL(2, loaded->size());
  CHECK(loaded->at("t") == (core::ConditionProfile{18.0, 26.0, 14.4, 31.2}));

  CHECK(cache->Save({{"co2", {400.0, 800.0, 320.0, 960.0}}}, 2000).has_value());
  loaded = cache->Load();
  CHECK(loaded.has_value());
  LONGS_EQUAL(1, loaded->size());
  CHECK(loaded->count("co2") == 1);
}

TEST(ProfileCache, AStoreThatNeverFetchedHasNone) {
  auto db = store::Database::Open(dir.File("fieldsync.db"));
  CHECK(db.has_value());
  auto cache = store::ProfileCache::Open(**db);
  CHECK(cache.has_value());
  auto loaded = cache->Load();
  CHECK(loaded.has_value());
  CHECK(loaded->empty());
}
