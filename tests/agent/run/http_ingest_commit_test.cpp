// POST /api/data through the grouped commit: one request is one store transaction.
#include <CppUTest/TestHarness.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/grouped_commit.hpp"
#include "agent/http_routes.hpp"
#include "tests/drivers/serial/lazy_globals.hpp"

using namespace fieldsync;
using namespace std::chrono_literals;

namespace {

// Counts the store transactions and the frames in each.
struct CountingStore {
  std::vector<std::size_t> frames_per_commit;
  core::Expected<store::CommitResult> Commit(const store::IngestBatch& batch) {
    frames_per_commit.push_back(batch.frames.size());
    store::CommitResult r;
    for (const auto& f : batch.frames) {
      r.frame_stored.push_back(true);
      r.accepted += static_cast<std::int64_t>(f.readings.size());
    }
    return r;
  }
};

std::string ArrayOfFrames(int n) {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) body += ",";
    body += R"({"device":"dev","t":)" + std::to_string(i) + "}";
  }
  return body + "]";
}

}  // namespace

TEST_GROUP(HttpIngestCommit) {
  boost::asio::io_context io;
  core::FakeClock clock{1'750'000'000'000'000};
  CountingStore store;
  std::map<std::string, core::MetricSpec> metrics;
  drivers::FrameDecoder decoder{drivers::FrameSpec{}, metrics, clock, /*trust_unsynced=*/true};

  std::optional<agent::HttpReply> Post(agent::GroupedCommit & sink, const std::string& body) {
    agent::HttpServices services;
    services.api_key = "secret";
    services.sink = &sink;
    services.decoder = &decoder;
    agent::HttpRoutes routes(services);
    std::optional<agent::HttpReply> reply;
    routes.Handle(agent::HttpRequest{"POST", "/api/data", std::string("secret"), body},
                  [&reply](agent::HttpReply r) { reply = std::move(r); });
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (!reply && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_for(5ms);
    }
    // Let any timer the request armed fire: it must find nothing left to commit.
    io.restart();
    io.run_for(150ms);
    return reply;
  }
};

TEST(HttpIngestCommit, AnArrayOfManyFramesIsOneCommitAnsweredOnceDurable) {
  agent::GroupedCommit sink(
      io, [this](const store::IngestBatch& b) { return store.Commit(b); }, clock);
  constexpr int kFrames = 1000;  // more than one group (max_group_frames 256)
  auto reply = Post(sink, ArrayOfFrames(kFrames));
  CHECK(reply.has_value());
  LONGS_EQUAL(202, reply->status);
  auto doc = nlohmann::json::parse(reply->body);
  LONGS_EQUAL(kFrames, doc["accepted"].get<int>());
  // One transaction for the whole body, not one per frame.
  LONGS_EQUAL(1, store.frames_per_commit.size());
  LONGS_EQUAL(kFrames, store.frames_per_commit.front());
  LONGS_EQUAL(1, sink.stats().commits);
}

TEST(HttpIngestCommit, EachRequestIsItsOwnCommit) {
  agent::GroupedCommit sink(
      io, [this](const store::IngestBatch& b) { return store.Commit(b); }, clock);
  for (int i = 0; i < 3; ++i) {
    auto reply = Post(sink, ArrayOfFrames(10));
    CHECK(reply.has_value());
    LONGS_EQUAL(202, reply->status);
  }
  LONGS_EQUAL(3, store.frames_per_commit.size());
  for (std::size_t n : store.frames_per_commit) LONGS_EQUAL(10, n);
}

TEST(HttpIngestCommit, AHugeArrayCommitsOncePer4096FramesAndKeepsThemAll) {
  agent::GroupedCommit sink(
      io, [this](const store::IngestBatch& b) { return store.Commit(b); }, clock);
  constexpr int kFrames = 30000;  // beyond the grouped commit's queue bound of 20,000
  auto reply = Post(sink, ArrayOfFrames(kFrames));
  CHECK(reply.has_value());
  LONGS_EQUAL(202, reply->status);
  LONGS_EQUAL(kFrames, nlohmann::json::parse(reply->body)["accepted"].get<int>());
  LONGS_EQUAL(8, store.frames_per_commit.size());  // ceil(30000 / 4096)
  LONGS_EQUAL(4096, store.frames_per_commit.front());
  LONGS_EQUAL(0, sink.stats().frames_failed);
}
