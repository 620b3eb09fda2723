#include "agent/grouped_commit.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace fieldsync::agent {
namespace {

constexpr std::chrono::milliseconds kMaxRetryDelay{5000};
constexpr std::chrono::seconds kRejectLogInterval{1};

drivers::SubmitResult Result(drivers::SubmitStatus status) {
  drivers::SubmitResult r;
  r.status = status;
  return r;
}

}  // namespace

GroupedCommit::GroupedCommit(boost::asio::io_context& io, BatchCommitter commit, core::Clock& clock,
                             GroupedCommitOptions options)
    : io_(io), commit_(std::move(commit)), clock_(clock), options_(options), timer_(io) {}

GroupedCommit::~GroupedCommit() { timer_.cancel(); }

void GroupedCommit::Submit(const std::string& input, drivers::DecodedFrame frame,
                           drivers::SubmitDone done, bool durable_now) {
  if (queued_ >= options_.max_queued_frames) {
    // The store has been failing for a while: refusing here keeps memory bounded, and the input
    // withholds its acknowledgement so the sender still has the frame.
    ++stats_.frames_failed;
    spdlog::error("input {}: {} frames wait for a store that keeps failing; frame refused", input,
                  queued_);
    if (done) done(Result(drivers::SubmitStatus::kFailed));
    return;
  }
  InputQueue& queue = queues_[input];
  queue.last_frame_at = clock_.NowUs();
  queue.frames.push_back(QueuedFrame{std::move(frame), std::move(done), 0});
  ++queued_;
  if (durable_now) {
    CommitQueued();
    // What failed stays queued; the timer retries it.
    if (queued_ > 0) ScheduleCommit(RetryDelay());
    return;
  }
  if (queued_ >= options_.max_group_frames) {
    ScheduleCommit(std::chrono::milliseconds(0));
  } else {
    ScheduleCommit(options_.interval);
  }
}

void GroupedCommit::Reject(const std::string& input, const drivers::FrameRejection& rejection) {
  InputQueue& queue = queues_[input];
  ++queue.rejected[rejection.reason];
  auto now = std::chrono::steady_clock::now();
  // At most one log line per second per input (§2), saying how many were not logged.
  if (now - queue.last_reject_log >= kRejectLogInterval) {
    spdlog::warn("input {}: frame rejected ({}): {}: '{}'{}", input,
                 core::ToString(rejection.reason), rejection.detail, rejection.excerpt,
                 queue.unlogged_rejects > 0
                     ? " (+" + std::to_string(queue.unlogged_rejects) + " more not logged)"
                     : std::string());
    queue.last_reject_log = now;
    queue.unlogged_rejects = 0;
  } else {
    ++queue.unlogged_rejects;
  }
  ScheduleCommit(options_.interval);
}

void GroupedCommit::CountSeq(const std::string& input, std::int64_t frames_lost,
                             std::int64_t duplicate_frames) {
  InputQueue& queue = queues_[input];
  queue.frames_lost += frames_lost;
  queue.duplicates += duplicate_frames;
  ScheduleCommit(options_.interval);
}

void GroupedCommit::SetConnected(const std::string& input, bool connected) {
  auto [it, inserted] = connected_.try_emplace(input, connected);
  if (!inserted && it->second == connected) return;
  it->second = connected;
  spdlog::info("input {}: {}", input, connected ? "connected" : "disconnected");
}

void GroupedCommit::FlushAll() {
  timer_.cancel();
  timer_due_.reset();
  // Each round either commits or moves every remaining frame one attempt closer to kFailed,
  // so this ends after at most max_attempts rounds.
  for (int round = 0; round <= options_.max_attempts; ++round) {
    if (CommitQueued()) break;
  }
  if (queued_ > 0) {
    for (auto& [input, queue] : queues_) {
      while (!queue.frames.empty()) {
        QueuedFrame f = std::move(queue.frames.front());
        queue.frames.pop_front();
        --queued_;
        ++stats_.frames_failed;
        if (f.done) f.done(Result(drivers::SubmitStatus::kFailed));
      }
    }
  }
}

bool GroupedCommit::CommitQueued() {
  bool all_ok = true;
  // Copy the names: a done callback may Submit for a new input and grow the map.
  std::vector<std::string> inputs;
  for (const auto& [name, queue] : queues_) {
    if (queue.HasWork()) inputs.push_back(name);
  }
  for (const auto& name : inputs) {
    if (!CommitInput(name, queues_[name])) all_ok = false;
  }
  if (all_ok) {
    consecutive_failures_ = 0;
  } else {
    ++consecutive_failures_;
  }
  return all_ok;
}

bool GroupedCommit::CommitInput(const std::string& input, InputQueue& queue) {
  store::IngestBatch batch;
  batch.input = input;
  std::vector<QueuedFrame> taken;
  taken.reserve(queue.frames.size());
  while (!queue.frames.empty()) {
    taken.push_back(std::move(queue.frames.front()));
    queue.frames.pop_front();
  }
  queued_ -= taken.size();
  batch.frames.reserve(taken.size());
  for (const auto& f : taken) {
    batch.frames.push_back(store::IngestFrame{f.frame.readings, f.frame.held_boot_us});
    if (f.frame.seq_tracked) batch.frames.back().seq = f.frame.seq;
    batch.fields_ignored += f.frame.fields_ignored;
  }
  batch.rejected = queue.rejected;
  batch.duplicates = queue.duplicates;
  batch.frames_lost = queue.frames_lost;
  batch.last_frame_at = queue.last_frame_at;

  auto committed = commit_(batch);
  if (!committed) {
    ++stats_.failed_commits;
    spdlog::error("input {}: commit of {} frames failed: {}", input, taken.size(),
                  committed.error().message);
    // Put back what may still be retried, in order, ahead of anything submitted meanwhile.
    std::vector<QueuedFrame> given_up;
    for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
      if (++it->attempts >= options_.max_attempts) {
        given_up.push_back(std::move(*it));
      } else {
        queue.frames.push_front(std::move(*it));
        ++queued_;
      }
    }
    for (auto& f : given_up) {
      ++stats_.frames_failed;
      if (f.done) f.done(Result(drivers::SubmitStatus::kFailed));
    }
    if (!given_up.empty()) {
      spdlog::error("input {}: {} frames not stored after {} attempts; not acknowledged", input,
                    given_up.size(), options_.max_attempts);
    }
    return false;
  }
  ++stats_.commits;
  // The counts are in the store now; keep only what arrived since (none: same thread).
  queue.rejected.clear();
  queue.duplicates = 0;
  queue.frames_lost = 0;

  const store::CommitResult& result = *committed;
  // A committer that reports no per-frame outcome (none of the store's) leaves only
  // frame_stored to go by: then a stored frame counts all its readings as accepted.
  const bool per_frame = result.frames.size() == taken.size();
  for (std::size_t i = 0; i < taken.size(); ++i) {
    bool stored = per_frame ? result.frames[i].stored
                            : i < result.frame_stored.size() && result.frame_stored[i];
    drivers::SubmitResult r =
        Result(stored ? drivers::SubmitStatus::kDurable : drivers::SubmitStatus::kRefusedFull);
    if (stored && per_frame) {
      r.accepted = result.frames[i].accepted;
      r.duplicates = result.frames[i].duplicates;
    } else if (stored) {
      r.accepted = static_cast<std::int64_t>(taken[i].frame.readings.size());
    }
    if (taken[i].done) taken[i].done(r);
  }
  return true;
}

void GroupedCommit::ScheduleCommit(std::chrono::milliseconds delay) {
  auto due = std::chrono::steady_clock::now() + delay;
  if (timer_due_ && *timer_due_ <= due) return;  // an earlier commit is already due
  timer_due_ = due;
  timer_.expires_at(due);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    OnTimer();
  });
}

void GroupedCommit::OnTimer() {
  timer_due_.reset();
  if (!CommitQueued()) {
    ScheduleCommit(RetryDelay());
    return;
  }
  // Frames submitted by done callbacks during the commit wait for their own interval.
  if (queued_ > 0) ScheduleCommit(options_.interval);
}

std::chrono::milliseconds GroupedCommit::RetryDelay() const {
  auto delay = options_.retry_delay;
  for (int i = 1; i < consecutive_failures_ && delay < kMaxRetryDelay; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelay);
}

}  // namespace fieldsync::agent
