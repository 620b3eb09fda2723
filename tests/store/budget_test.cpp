#include "store/budget.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using namespace fieldsync::store;

TEST_GROUP(Budget){};

TEST(Budget, DatabaseAndWalTogetherStayWithinMaxMb) {
  for (std::int64_t mb : {1, 2, 10, 100, 1024, 65536}) {
    StoreBudget b = ComputeBudget(mb, 4096);
    LONGS_EQUAL(mb * 1024 * 1024, b.max_bytes);
    CHECK((b.hard_limit_pages + b.wal_pages) * 4096 <= b.max_bytes);
    CHECK(b.insert_limit_pages < b.hard_limit_pages);
    CHECK(b.insert_limit_pages > 0);
  }
}

TEST(Budget, WalAllowanceIsAnEighthCappedAtFourMib) {
  LONGS_EQUAL(32, ComputeBudget(1, 4096).wal_pages);
  LONGS_EQUAL(1024, ComputeBudget(1024, 4096).wal_pages);
  LONGS_EQUAL(1024, ComputeBudget(65536, 4096).wal_pages);
}

TEST(Budget, ReserveIsSmallButNeverZero) {
  StoreBudget small = ComputeBudget(1, 4096);
  LONGS_EQUAL(4, small.hard_limit_pages - small.insert_limit_pages);
  StoreBudget large = ComputeBudget(1024, 4096);
  LONGS_EQUAL(64, large.hard_limit_pages - large.insert_limit_pages);
}
