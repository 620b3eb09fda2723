#pragma once
// GroupedCommit: the FrameSink of `fieldsync run`. Frames from every input are queued and
// committed to the store in groups (§2: "commits are grouped wherever the input allows"):
//   - as soon as `max_group_frames` frames are queued,
//   - else `interval` after the first frame was queued,
//   - or inside Submit when the caller asks for durable_now.
// Each input's queue goes to the store as one IngestBatch (one transaction), together with the
// rejections and seq counts that input reported since its last commit. After the commit returns,
// every frame's `done` runs with kDurable (frame_stored; with that frame's own accepted and
// duplicate counts from CommitResult::frames), kRefusedFull (the store refused it: reject_new
// and full) or kFailed.
//
// Invariant: a frame is acknowledged (kDurable) only after a commit that stored it returned.
// A failed commit acknowledges nothing and loses nothing: the frames and counts stay queued and
// the commit is retried after retry_delay (doubling, at most 5 s). A frame whose commit failed
// max_attempts times, or that arrives while max_queued_frames are already waiting, gets kFailed
// and is counted in stats().frames_failed (logged): its input withholds the acknowledgement and
// the sender keeps it.
//
// Thread-safety: none. Every call, and every `done` callback, runs on the io_context's thread.
// `done` runs from the loop (a timer) or, with durable_now, before Submit returns; it may call
// Submit again. The GroupedCommit must outlive the io_context's run() (its timer holds `this`).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/expected.hpp"
#include "drivers/frame_sink.hpp"
#include "store/store.hpp"

namespace fieldsync::agent {

// Commits one input's batch in one transaction: Store::Commit in the service, a fake in tests.
using BatchCommitter =
    std::function<core::Expected<store::CommitResult>(const store::IngestBatch& batch)>;

struct GroupedCommitOptions {
  std::size_t max_group_frames = 256;          // commit at once when this many are queued
  std::chrono::milliseconds interval{100};     // else this long after the first queued frame
  std::size_t max_queued_frames = 20000;       // beyond this, new frames get kFailed at once
  int max_attempts = 5;                        // failed commits before a frame gets kFailed
  std::chrono::milliseconds retry_delay{200};  // first retry after a failed commit, doubling
};

struct GroupedCommitStats {
  std::int64_t commits = 0;         // successful Commit calls
  std::int64_t failed_commits = 0;  // Commit calls that returned an error
  std::int64_t frames_failed = 0;   // frames finally given up (kFailed)
};

class GroupedCommit final : public drivers::FrameSink {
 public:
  // `clock` stamps last_frame_at; it must outlive this object.
  GroupedCommit(boost::asio::io_context& io, BatchCommitter commit, core::Clock& clock,
                GroupedCommitOptions options = {});
  ~GroupedCommit() override;
  GroupedCommit(const GroupedCommit&) = delete;
  GroupedCommit& operator=(const GroupedCommit&) = delete;

  void Submit(const std::string& input, drivers::DecodedFrame frame, drivers::SubmitDone done,
              bool durable_now = false) override;
  void Reject(const std::string& input, const drivers::FrameRejection& rejection) override;
  void CountSeq(const std::string& input, std::int64_t frames_lost,
                std::int64_t duplicate_frames) override;
  void SetConnected(const std::string& input, bool connected) override;

  // Commits everything queued now, retrying failed commits without waiting, until every queued
  // frame's `done` has run (durable, refused or failed). Used at shutdown and before a reload.
  void FlushAll();

  std::size_t queued_frames() const { return queued_; }
  const GroupedCommitStats& stats() const { return stats_; }
  // Input name -> connected, for every input that ever called SetConnected.
  const std::map<std::string, bool>& connections() const { return connected_; }

 private:
  struct QueuedFrame {
    drivers::DecodedFrame frame;
    drivers::SubmitDone done;
    int attempts = 0;
  };
  // What one input handed over since its last successful commit.
  struct InputQueue {
    std::deque<QueuedFrame> frames;
    std::map<core::RejectReason, std::int64_t> rejected;
    std::int64_t duplicates = 0;
    std::int64_t frames_lost = 0;
    std::optional<core::TimeUs> last_frame_at;
    std::chrono::steady_clock::time_point last_reject_log{};
    std::int64_t unlogged_rejects = 0;
    bool HasWork() const {
      return !frames.empty() || !rejected.empty() || duplicates != 0 || frames_lost != 0;
    }
  };

  // Commits every input queue once. Returns false when some commit failed (work remains).
  bool CommitQueued();
  // Commits one input's queue; false when the store returned an error.
  bool CommitInput(const std::string& input, InputQueue& queue);
  void ScheduleCommit(std::chrono::milliseconds delay);
  void OnTimer();
  std::chrono::milliseconds RetryDelay() const;

  boost::asio::io_context& io_;
  BatchCommitter commit_;
  core::Clock& clock_;
  GroupedCommitOptions options_;
  boost::asio::steady_timer timer_;
  std::optional<std::chrono::steady_clock::time_point> timer_due_;
  std::map<std::string, InputQueue> queues_;
  std::map<std::string, bool> connected_;
  std::size_t queued_ = 0;
  int consecutive_failures_ = 0;
  GroupedCommitStats stats_;
};

}  // namespace fieldsync::agent
