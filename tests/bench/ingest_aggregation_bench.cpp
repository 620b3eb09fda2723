// fieldsync_ingest_bench: the ingest commit path timed with the aggregates maintained (as every
// command and `run` open the store, agent/local_store.hpp) or without them (the bare store: no
// commit hook, no late-window duplicate filter), so that the cost of aggregation is measured on
// the same frames, code and disk in one run. The product has no switch to turn aggregation off
// (SPEC §4 maintains buckets for every reading); this tool exists only for the benchmark.
//
// Usage: fieldsync_ingest_bench --config FILE --aggregation on|off [--frames-per-commit N] FRAMES
//   N = 0 (default): agent::FileIngest, exactly what `fieldsync ingest FRAMES` runs
//                    (FileIngest::kFramesPerCommit frames per transaction);
//   N > 0:           the frames decoded one by one and committed N per transaction, like the
//                    grouped commits of `fieldsync run` (at most 256 frames per group).
// Prints one JSON line: {"readings": stored, "frames": n, "commits": n, "seconds": s}, where the
// time covers decoding and committing, and with aggregation on the final fold that brings every
// stored reading into its buckets (not opening the store or reading the file).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config.hpp"
#include "agent/file_ingest.hpp"
#include "agent/local_store.hpp"
#include "core/clock.hpp"
#include "drivers/frame_decoder.hpp"
#include "store/store.hpp"

namespace {

using fieldsync::agent::Config;
using fieldsync::core::Expected;

struct BenchArgs {
  std::string config;
  bool aggregation = true;
  std::size_t frames_per_commit = 0;
  std::string frames;
};

struct BenchResult {
  std::int64_t readings = 0;
  std::int64_t frames = 0;
  std::int64_t commits = 0;
};

bool ParseArgs(int argc, char** argv, BenchArgs& args) {
  std::vector<std::string_view> list(argv + 1, argv + argc);
  bool have_mode = false;
  for (std::size_t i = 0; i < list.size(); ++i) {
    bool has_value = i + 1 < list.size();
    if (list[i] == "--config" && has_value) {
      args.config = list[++i];
    } else if (list[i] == "--aggregation" && has_value) {
      std::string_view mode = list[++i];
      if (mode != "on" && mode != "off") return false;
      args.aggregation = mode == "on";
      have_mode = true;
    } else if (list[i] == "--frames-per-commit" && has_value) {
      args.frames_per_commit = std::stoul(std::string(list[++i]));
    } else if (args.frames.empty() && !list[i].starts_with("--")) {
      args.frames = list[i];
    } else {
      return false;
    }
  }
  return have_mode && !args.config.empty() && !args.frames.empty();
}

// The ingest command's own path: FileIngest fed in the chunks its reader uses.
Expected<BenchResult> RunFileIngest(const Config& config, fieldsync::core::Clock& clock,
                                    fieldsync::store::Store& store, const std::string& bytes) {
  fieldsync::agent::FileIngest ingest(config, fieldsync::drivers::FrameSpec{}, clock, &store);
  constexpr std::size_t kChunk = 64 * 1024;
  for (std::size_t at = 0; at < bytes.size(); at += kChunk) {
    if (auto fed = ingest.Feed(std::string_view(bytes).substr(at, kChunk)); !fed) {
      return fed.error();
    }
  }
  if (auto done = ingest.Finish(); !done) return done.error();
  const auto& tally = ingest.tally();
  BenchResult result;
  result.readings = tally.accepted;
  result.frames = tally.frames;
  auto per_commit = static_cast<std::int64_t>(fieldsync::agent::FileIngest::kFramesPerCommit);
  result.commits = (tally.frames + per_commit - 1) / per_commit;
  return result;
}

// Grouped commits of `group` frames, as `run` makes them.
Expected<BenchResult> RunGrouped(const Config& config, fieldsync::core::Clock& clock,
                                 fieldsync::store::Store& store, const std::string& bytes,
                                 std::size_t group) {
  fieldsync::drivers::FrameDecoder decoder(fieldsync::drivers::FrameSpec{}, config.metrics, clock,
                                           config.clock.trust_unsynced);
  BenchResult result;
  fieldsync::store::IngestBatch batch;
  batch.input = "bench";
  auto commit = [&]() -> fieldsync::core::Status {
    if (batch.frames.empty()) return fieldsync::core::Ok();
    auto committed = store.Commit(batch);
    if (!committed) return committed.error();
    result.readings += committed->accepted;
    ++result.commits;
    batch.frames.clear();
    batch.rejected.clear();
    return fieldsync::core::Ok();
  };
  std::istringstream lines(bytes);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    ++result.frames;
    fieldsync::drivers::DecodeResult decoded = decoder.Decode(line);
    if (!decoded.frame) {
      ++batch.rejected[decoded.rejection->reason];
      continue;
    }
    batch.frames.emplace_back(std::move(decoded.frame->readings), decoded.frame->held_boot_us);
    batch.last_frame_at = clock.NowUs();
    if (batch.frames.size() >= group) {
      if (auto s = commit(); !s) return s.error();
    }
  }
  if (auto s = commit(); !s) return s.error();
  return result;
}

int Fail(const std::string& what) {
  std::cerr << "fieldsync_ingest_bench: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  BenchArgs args;
  if (!ParseArgs(argc, argv, args)) {
    std::cerr << "usage: fieldsync_ingest_bench --config FILE --aggregation on|off "
                 "[--frames-per-commit N] FRAMES\n";
    return 2;
  }
  auto config = fieldsync::agent::LoadConfig(args.config);
  if (!config) return Fail(config.error().message);
  std::ifstream in(args.frames, std::ios::binary);
  if (!in) return Fail("cannot read " + args.frames);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  fieldsync::core::SystemClock clock;
  // Either store keeps its own objects alive for the whole run.
  std::unique_ptr<fieldsync::agent::LocalStore> with_aggregates;
  std::unique_ptr<fieldsync::store::Store> bare;
  fieldsync::store::Store* store = nullptr;
  if (args.aggregation) {
    auto opened = fieldsync::agent::LocalStore::Open(*config, clock);
    if (!opened) return Fail(opened.error().message);
    with_aggregates = std::move(*opened);
    store = &with_aggregates->store();
  } else {
    auto opened = fieldsync::store::Store::Open(config->state_dir, config->store, clock);
    if (!opened) return Fail(opened.error().message);
    bare = std::move(*opened);
    store = bare.get();
  }

  auto start = std::chrono::steady_clock::now();
  auto result = args.frames_per_commit == 0
                    ? RunFileIngest(*config, clock, *store, bytes)
                    : RunGrouped(*config, clock, *store, bytes, args.frames_per_commit);
  // The clock stops only once every stored reading is in its buckets: folds the commits left
  // for later are part of the cost of aggregation.
  if (result && with_aggregates) {
    if (auto folded = with_aggregates->aggregates().FoldAll(); !folded)
      return Fail(folded.error().message);
  }
  std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
  if (!result) return Fail(result.error().message);
  std::printf("{\"readings\": %lld, \"frames\": %lld, \"commits\": %lld, \"seconds\": %.6f}\n",
              static_cast<long long>(result->readings), static_cast<long long>(result->frames),
              static_cast<long long>(result->commits), seconds.count());
  return 0;
}
