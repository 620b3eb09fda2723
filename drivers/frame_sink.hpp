#pragma once
// FrameSink: where an input hands what it decoded. The agent implements it on top of the store
// with grouped commits; inputs know nothing of SQLite. All calls, and every `done` callback, happen
// on the agent's event loop thread unless a method says otherwise.

#include <cstdint>
#include <functional>
#include <string>

#include "core/reject_reason.hpp"
#include "drivers/frame_decoder.hpp"

namespace fieldsync::drivers {

enum class SubmitStatus : unsigned char {
  kDurable,      // committed to the store (or all duplicates of stored readings): acknowledge it
  kRefusedFull,  // the store refuses new data (reject_new and full): withhold the acknowledgement
  kFailed,       // the commit failed (I/O error): withhold the acknowledgement, the input retries
};

struct SubmitResult {
  SubmitStatus status = SubmitStatus::kFailed;
  std::int64_t accepted = 0;    // readings newly stored
  std::int64_t duplicates = 0;  // readings that were already stored
};

using SubmitDone = std::function<void(const SubmitResult&)>;

class FrameSink {
 public:
  virtual ~FrameSink() = default;

  // Queues `frame` from input `input` for the next grouped commit; `done` runs once the commit
  // has returned (at most one commit interval later). `durable_now` asks for a commit before
  // returning to the loop (MQTT with ack = "durable", HTTP), still grouping what is queued.
  virtual void Submit(const std::string& input, DecodedFrame frame, SubmitDone done,
                      bool durable_now = false) = 0;

  // Counts a frame rejected before the store, with the offending text for the rate-limited log.
  virtual void Reject(const std::string& input, const FrameRejection& rejection) = 0;

  // Counts frames a seq gap says were lost, and frames dropped as seq resends.
  virtual void CountSeq(const std::string& input, std::int64_t frames_lost,
                        std::int64_t duplicate_frames) = 0;

  // Marks the input connected or not (status, metrics).
  virtual void SetConnected(const std::string& input, bool connected) = 0;
};

}  // namespace fieldsync::drivers
