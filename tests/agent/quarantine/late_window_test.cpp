// §1: a reading whose key was already uploaded (and so deleted from the outbox) but is still
// inside its series' late window is a duplicate at ingest, not a new pending reading. Checked
// with the built binary; the upload is stood in for by DeleteUploaded of every pending row.
#include <string>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/agent/quarantine/quarantine_fixture.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::testing::CommandOutput;
using fieldsync::testing::Frame;
using fieldsync::testing::Gateway;
using nlohmann::json;

namespace {

// What a sync does locally once the remote COMMIT returned: deletes the uploaded rows.
void DeleteAllPending(const Gateway& gw) {
  fieldsync::core::SystemClock clock;
  auto local = gw.OpenLocal(clock);
  CHECK(local != nullptr);
  auto pending = local->store().OldestPending(100000);
  CHECK_TRUE(pending.has_value());
  CHECK_TRUE(local->store().DeleteUploaded(pending->ids));
}

}  // namespace

TEST_GROUP(LateWindow) {
  Gateway gw;

  json Ingest(const std::string& frames) {
    fieldsync::testing::WriteFile(gw.dir.File("frames.jsonl"), frames);
    return gw.Json("ingest --json '" + gw.dir.File("frames.jsonl") + "'");
  }
};

TEST(LateWindow, UploadedReadingsInsideTheWindowAreDuplicatesAtIngest) {
  std::string frames;
  for (int i = 0; i < 20; ++i) frames += Frame(i, 20.0 + i);
  LONGS_EQUAL(20, Ingest(frames)["accepted"].get<long>());
  DeleteAllPending(gw);
  json status = gw.Json("status --json");
  LONGS_EQUAL(0, status["pending"]["readings"].get<long>());
  const long duplicates_before = status["duplicates"].get<long>();

  json again = Ingest(frames);
  LONGS_EQUAL(0, again["accepted"].get<long>());
  LONGS_EQUAL(20, again["duplicates"].get<long>());
  status = gw.Json("status --json");
  LONGS_EQUAL(0, status["pending"]["readings"].get<long>());
  LONGS_EQUAL(duplicates_before + 20, status["duplicates"].get<long>());

  // A new key in the same series is still stored.
  LONGS_EQUAL(1, Ingest(Frame(20, 40.0))["accepted"].get<long>());
}

TEST(LateWindow, ReadingsOlderThanTheWindowAreStoredAgainAsLate) {
  // 10 readings, then one 2 h later: with the default 3600 s window the first 10 fall behind
  // it. The newest of them stays as the window's anchor (a late counter reading's predecessor):
  // its key is known, so it is a duplicate, like the reading inside the window.
  std::string old_frames;
  for (int i = 0; i < 10; ++i) old_frames += Frame(i, 1.0 + i);
  std::string frames = old_frames + Frame(7200, 99.0);
  LONGS_EQUAL(11, Ingest(frames)["accepted"].get<long>());
  DeleteAllPending(gw);

  json again = Ingest(frames);
  LONGS_EQUAL(9, again["accepted"].get<long>());
  LONGS_EQUAL(2, again["duplicates"].get<long>());
  json status = gw.Json("status --json");
  LONGS_EQUAL(9, status["pending"]["readings"].get<long>());
  LONGS_EQUAL(9, status["late"].get<long>());
}
