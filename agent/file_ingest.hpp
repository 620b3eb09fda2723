#pragma once
// FileIngest: a byte stream of frames (a file, stdin) through the line framer and a frame
// decoder into the store, in grouped commits of kFramesPerCommit frames, counting what was
// accepted, duplicated and rejected (by reason). With no store (dry run) it only decodes and
// counts. Not thread-safe.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "agent/config.hpp"
#include "core/clock.hpp"
#include "core/expected.hpp"
#include "core/reject_reason.hpp"
#include "drivers/frame_decoder.hpp"
#include "drivers/line_framer.hpp"
#include "drivers/seq_tracker.hpp"
#include "store/store.hpp"

namespace fieldsync::agent {

// The input name the store counts `fieldsync ingest` under.
inline constexpr const char* kIngestInput = "ingest";

struct IngestTally {
  std::int64_t frames = 0;           // lines seen, good or bad (blank lines are not frames)
  std::int64_t accepted_frames = 0;  // stored, or all their readings were duplicates
  std::int64_t accepted = 0;         // readings newly stored (dry run: readings decoded)
  std::int64_t duplicates = 0;       // readings dropped as duplicates (store or seq resend)
  std::int64_t dropped = 0;          // older pending readings deleted to make room
  std::int64_t frames_lost = 0;      // seq gaps
  std::map<core::RejectReason, std::int64_t> rejected;  // frames, by reason
};

class FileIngest {
 public:
  static constexpr std::size_t kFramesPerCommit = 5000;

  // `store` null: dry run. `config` and `clock` must outlive this object.
  FileIngest(const Config& config, drivers::FrameSpec spec, core::Clock& clock,
             store::Store* store);

  // Frames the bytes; commits whenever kFramesPerCommit frames are queued. After a failed
  // commit every later call returns the same error.
  core::Status Feed(std::string_view bytes);
  // End of input: the last unterminated line, then the final commit.
  core::Status Finish();

  const IngestTally& tally() const { return tally_; }

 private:
  void OnEvent(const drivers::FramerEvent& event);
  void OnFrame(std::string_view line);
  void Reject(core::RejectReason reason);
  core::Status Commit();

  core::Clock& clock_;
  store::Store* store_;
  drivers::LineFramer framer_;
  drivers::FrameDecoder decoder_;
  drivers::SeqTracker seq_;
  store::IngestBatch batch_;
  IngestTally tally_;
  core::Status failure_;
};

}  // namespace fieldsync::agent
