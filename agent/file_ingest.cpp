#include "agent/file_ingest.hpp"

#include <utility>

namespace fieldsync::agent {

FileIngest::FileIngest(const Config& config, drivers::FrameSpec spec, core::Clock& clock,
                       store::Store* store)
    : clock_(clock),
      store_(store),
      framer_(spec.max_line),
      decoder_(spec, config.metrics, clock, config.clock.trust_unsynced) {
  batch_.input = kIngestInput;
}

core::Status FileIngest::Feed(std::string_view bytes) {
  if (!failure_) return failure_;
  framer_.Feed(bytes, [this](const drivers::FramerEvent& event) { OnEvent(event); });
  return failure_;
}

core::Status FileIngest::Finish() {
  if (!failure_) return failure_;
  framer_.Finish([this](const drivers::FramerEvent& event) { OnEvent(event); });
  if (!failure_) return failure_;
  return Commit();
}

void FileIngest::OnEvent(const drivers::FramerEvent& event) {
  if (!failure_) return;  // a commit failed: the rest of the input is not counted
  ++tally_.frames;
  if (event.kind == drivers::FramerEvent::Kind::kTooLong) {
    Reject(core::RejectReason::kTooLong);
  } else {
    OnFrame(event.text);
  }
  if (batch_.frames.size() >= kFramesPerCommit) failure_ = Commit();
}

void FileIngest::OnFrame(std::string_view line) {
  drivers::DecodeResult result = decoder_.Decode(line);
  if (!result.frame) {
    Reject(result.rejection ? result.rejection->reason : core::RejectReason::kParse);
    return;
  }
  drivers::DecodedFrame& frame = *result.frame;
  batch_.last_frame_at = clock_.NowUs();
  batch_.fields_ignored += frame.fields_ignored;
  if (frame.seq) {
    drivers::SeqObservation seen = seq_.Observe(frame.device, *frame.seq);
    batch_.frames_lost += seen.frames_lost;
    tally_.frames_lost += seen.frames_lost;
    if (seen.verdict == drivers::SeqVerdict::kDuplicate) {
      // A resend of a frame already in this input: its readings are duplicates.
      auto n = static_cast<std::int64_t>(frame.readings.size());
      batch_.duplicates += n;
      tally_.duplicates += n;
      ++tally_.accepted_frames;
      return;
    }
  }
  if (store_ == nullptr) {
    ++tally_.accepted_frames;
    tally_.accepted += static_cast<std::int64_t>(frame.readings.size());
    return;
  }
  batch_.frames.push_back(store::IngestFrame{std::move(frame.readings), frame.held_boot_us});
}

void FileIngest::Reject(core::RejectReason reason) {
  ++batch_.rejected[reason];
  ++tally_.rejected[reason];
}

core::Status FileIngest::Commit() {
  store::IngestBatch batch;
  batch.input = kIngestInput;
  std::swap(batch, batch_);
  batch_.input = kIngestInput;
  if (store_ == nullptr) return core::Ok();
  bool anything = !batch.frames.empty() || !batch.rejected.empty() || batch.duplicates > 0 ||
                  batch.frames_lost > 0 || batch.fields_ignored > 0;
  if (!anything) return core::Ok();
  auto result = store_->Commit(batch);
  if (!result) return result.error();
  tally_.accepted += result->accepted;
  tally_.duplicates += result->duplicates;
  tally_.dropped += result->dropped;
  for (bool stored : result->frame_stored) tally_.accepted_frames += stored ? 1 : 0;
  if (result->refused_frames > 0) {
    tally_.rejected[core::RejectReason::kStoreFull] += result->refused_frames;
  }
  return core::Ok();
}

}  // namespace fieldsync::agent
