#include "agent/grouped_commit.hpp"

#include <CppUTest/TestHarness.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <vector>

#include "tests/drivers/serial/lazy_globals.hpp"

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

drivers::DecodedFrame Frame(double value) {
  drivers::DecodedFrame f;
  f.device = "uno";
  f.readings.push_back(core::Reading{"uno", "t", 1'000'000 + static_cast<core::TimeUs>(value),
                                     value, core::TsSource::kAgent});
  return f;
}

// A store that records each batch and answers as told.
struct FakeStore {
  std::vector<store::IngestBatch> batches;
  int fail_next = 0;    // this many commits return an error
  bool refuse = false;  // reject_new and full: no frame stored
  core::Expected<store::CommitResult> Commit(const store::IngestBatch& batch) {
    if (fail_next > 0) {
      --fail_next;
      return core::MakeError(core::Errc::kIo, "disk I/O error");
    }
    batches.push_back(batch);
    store::CommitResult r;
    for (const auto& f : batch.frames) {
      r.frame_stored.push_back(!refuse);
      if (!refuse) r.accepted += static_cast<std::int64_t>(f.readings.size());
    }
    return r;
  }
};

template <class Pred>
bool RunUntil(boost::asio::io_context& io, Pred done, std::chrono::milliseconds limit = 3000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(5ms);
  }
  return done();
}

}  // namespace

TEST_GROUP(GroupedCommit) {
  boost::asio::io_context io;
  core::FakeClock clock;
  FakeStore fake;
  std::vector<drivers::SubmitStatus> results;

  agent::BatchCommitter Committer() {
    return [this](const store::IngestBatch& b) { return fake.Commit(b); };
  }
  drivers::SubmitDone Record() {
    return [this](const drivers::SubmitResult& r) { results.push_back(r.status); };
  }
};

TEST(GroupedCommit, FramesWaitForTheIntervalThenCommitTogetherBeforeAcknowledging) {
  agent::GroupedCommitOptions options;
  options.interval = 50ms;
  agent::GroupedCommit sink(io, Committer(), clock, options);
  for (int i = 0; i < 3; ++i) sink.Submit("arduino1", Frame(i), Record());
  LONGS_EQUAL(0, fake.batches.size());
  LONGS_EQUAL(0, results.size());  // nothing acknowledged before a commit
  CHECK(RunUntil(io, [&] { return results.size() == 3; }));
  LONGS_EQUAL(1, fake.batches.size());
  LONGS_EQUAL(3, fake.batches[0].frames.size());
  STRCMP_EQUAL("arduino1", fake.batches[0].input.c_str());
  for (auto s : results) CHECK(s == drivers::SubmitStatus::kDurable);
}

TEST(GroupedCommit, AFullGroupCommitsWithoutWaitingForTheInterval) {
  agent::GroupedCommitOptions options;
  options.interval = 60s;
  options.max_group_frames = 4;
  agent::GroupedCommit sink(io, Committer(), clock, options);
  for (int i = 0; i < 4; ++i) sink.Submit("a", Frame(i), Record());
  CHECK(RunUntil(
      io, [&] { return results.size() == 4; }, 1000ms));
  LONGS_EQUAL(1, fake.batches.size());
}

TEST(GroupedCommit, DurableNowCommitsBeforeSubmitReturns) {
  agent::GroupedCommit sink(io, Committer(), clock);
  sink.Submit("a", Frame(1), Record());
  sink.Submit("http", Frame(2), Record(), /*durable_now=*/true);
  LONGS_EQUAL(2, results.size());       // the queued frame went with it
  LONGS_EQUAL(2, fake.batches.size());  // one transaction per input
}

TEST(GroupedCommit, AFailedCommitAcknowledgesNothingAndRetriesKeepingOrderAndCounts) {
  agent::GroupedCommitOptions options;
  options.interval = 10ms;
  options.retry_delay = 10ms;
  agent::GroupedCommit sink(io, Committer(), clock, options);
  fake.fail_next = 2;
  sink.Submit("a", Frame(1), Record());
  sink.Submit("a", Frame(2), Record());
  sink.Reject("a", drivers::FrameRejection{core::RejectReason::kParse, "bad", "x"});
  sink.CountSeq("a", 3, 1);
  CHECK(RunUntil(io, [&] { return fake.batches.size() == 1; }));
  LONGS_EQUAL(2, results.size());
  CHECK(results[0] == drivers::SubmitStatus::kDurable);
  const auto& batch = fake.batches[0];
  DOUBLES_EQUAL(1.0, batch.frames[0].readings[0].value, 0);
  DOUBLES_EQUAL(2.0, batch.frames[1].readings[0].value, 0);
  LONGS_EQUAL(1, batch.rejected.at(core::RejectReason::kParse));
  LONGS_EQUAL(3, batch.frames_lost);
  LONGS_EQUAL(1, batch.duplicates);
  LONGS_EQUAL(2, sink.stats().failed_commits);
}

TEST(GroupedCommit, AStoreThatKeepsFailingGetsFramesRefusedAfterMaxAttempts) {
  agent::GroupedCommitOptions options;
  options.interval = 1ms;
  options.retry_delay = 1ms;
  options.max_attempts = 3;
  agent::GroupedCommit sink(io, Committer(), clock, options);
  fake.fail_next = 1000;
  sink.Submit("a", Frame(1), Record());
  CHECK(RunUntil(io, [&] { return !results.empty(); }));
  CHECK(results[0] == drivers::SubmitStatus::kFailed);
  LONGS_EQUAL(3, sink.stats().failed_commits);
  LONGS_EQUAL(1, sink.stats().frames_failed);
  LONGS_EQUAL(0, sink.queued_frames());
}

TEST(GroupedCommit, QueueBoundRefusesNewFramesWhileTheStoreFails) {
  agent::GroupedCommitOptions options;
  options.interval = 60s;
  options.max_group_frames = 100;
  options.max_queued_frames = 2;
  agent::GroupedCommit sink(io, Committer(), clock, options);
  for (int i = 0; i < 3; ++i) sink.Submit("a", Frame(i), Record());
  LONGS_EQUAL(1, results.size());
  CHECK(results[0] == drivers::SubmitStatus::kFailed);
  LONGS_EQUAL(2, sink.queued_frames());
}

TEST(GroupedCommit, StoreRefusingNewDataWithholdsTheAcknowledgement) {
  fake.refuse = true;
  agent::GroupedCommit sink(io, Committer(), clock);
  sink.Submit("a", Frame(1), Record(), true);
  LONGS_EQUAL(1, results.size());
  CHECK(results[0] == drivers::SubmitStatus::kRefusedFull);
}

TEST(GroupedCommit, FlushAllCommitsEverythingQueuedAtOnce) {
  agent::GroupedCommitOptions options;
  options.interval = 60s;
  agent::GroupedCommit sink(io, Committer(), clock, options);
  sink.Submit("a", Frame(1), Record());
  sink.Submit("b", Frame(2), Record());
  fake.fail_next = 1;  // one failure is retried within FlushAll
  sink.FlushAll();
  LONGS_EQUAL(2, results.size());
  for (auto s : results) CHECK(s == drivers::SubmitStatus::kDurable);
  LONGS_EQUAL(0, sink.queued_frames());
}

TEST(GroupedCommit, RejectionsAloneReachTheStore) {
  agent::GroupedCommitOptions options;
  options.interval = 5ms;
  agent::GroupedCommit sink(io, Committer(), clock, options);
  sink.Reject("a", drivers::FrameRejection{core::RejectReason::kTooLong, "long", "xxx"});
  CHECK(RunUntil(io, [&] { return fake.batches.size() == 1; }));
  LONGS_EQUAL(0, fake.batches[0].frames.size());
  LONGS_EQUAL(1, fake.batches[0].rejected.at(core::RejectReason::kTooLong));
}

TEST(GroupedCommit, ConnectionStateIsKeptPerInput) {
  agent::GroupedCommit sink(io, Committer(), clock);
  sink.SetConnected("a", true);
  sink.SetConnected("b", false);
  CHECK(sink.connections().at("a"));
  CHECK_FALSE(sink.connections().at("b"));
}
