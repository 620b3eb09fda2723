#include "sync/id_runs.hpp"

#include <vector>

#include <CppUTest/TestHarness.h>

using fieldsync::sync::IdRuns;

namespace {
std::vector<std::vector<std::int64_t>> Chunks(const IdRuns& ids, std::size_t chunk) {
  std::vector<std::vector<std::int64_t>> out;
  const fieldsync::core::Status walked = ids.ForEachChunk(
      chunk, [&](const std::vector<std::int64_t>& part) -> fieldsync::core::Status {
        out.push_back(part);
        return fieldsync::core::Ok();
      });
  CHECK(walked.has_value());
  return out;
}
}  // namespace

TEST_GROUP(IdRuns){};

TEST(IdRuns, ConsecutiveIdsShareARunAndGapsStartNewOnes) {
  IdRuns ids;
  ids.Append(std::vector<std::int64_t>{5, 6, 7, 9, 10, 20});
  LONGS_EQUAL(6, ids.size());
  LONGS_EQUAL(3, ids.runs());
  const auto chunks = Chunks(ids, 100);
  LONGS_EQUAL(1, chunks.size());
  CHECK((chunks[0] == std::vector<std::int64_t>{5, 6, 7, 9, 10, 20}));
}

TEST(IdRuns, ExactlyTheAppendedIdsComeBackInChunks) {
  IdRuns ids;
  ids.Append(std::vector<std::int64_t>{1, 2, 3, 4, 5});
  IdRuns more;
  more.Append(std::vector<std::int64_t>{6, 7, 100});
  ids.Append(more);
  LONGS_EQUAL(2, ids.runs());  // 1..7 joined across the two
  const auto chunks = Chunks(ids, 3);
  LONGS_EQUAL(3, chunks.size());
  CHECK((chunks[0] == std::vector<std::int64_t>{1, 2, 3}));
  CHECK((chunks[1] == std::vector<std::int64_t>{4, 5, 6}));
  CHECK((chunks[2] == std::vector<std::int64_t>{7, 100}));
}

TEST(IdRuns, AFailingChunkStopsTheWalkWithItsError) {
  IdRuns ids;
  for (std::int64_t i = 1; i <= 10; ++i) ids.Append(i);
  int calls = 0;
  auto status =
      ids.ForEachChunk(4, [&](const std::vector<std::int64_t>&) -> fieldsync::core::Status {
        if (++calls == 2) return fieldsync::core::MakeError(fieldsync::core::Errc::kIo, "disk");
        return fieldsync::core::Ok();
      });
  CHECK_FALSE(status.has_value());
  LONGS_EQUAL(2, calls);
  ids.Clear();
  CHECK(ids.empty());
  LONGS_EQUAL(0, Chunks(ids, 4).size());
}
