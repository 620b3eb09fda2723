#include "agent/control_ingest.hpp"

#include <utility>

namespace fieldsync::agent {

using nlohmann::json;

json IngestTallyToJson(const IngestTally& tally) {
  json rejected = json::object();
  for (core::RejectReason reason : core::kAllRejectReasons) {
    auto it = tally.rejected.find(reason);
    rejected[std::string(core::ToString(reason))] = it == tally.rejected.end() ? 0 : it->second;
  }
  return {{"frames", tally.frames},
          {"accepted", tally.accepted},
          {"accepted_frames", tally.accepted_frames},
          {"duplicates", tally.duplicates},
          {"rejected", rejected},
          {"frames_lost", tally.frames_lost},
          {"dropped", tally.dropped}};
}

IngestTally IngestTallyFromJson(const json& object) {
  IngestTally tally;
  if (!object.is_object()) return tally;
  auto number = [&object](const char* key) -> std::int64_t {
    auto it = object.find(key);
    return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
  };
  tally.frames = number("frames");
  tally.accepted = number("accepted");
  tally.accepted_frames = number("accepted_frames");
  tally.duplicates = number("duplicates");
  tally.frames_lost = number("frames_lost");
  tally.dropped = number("dropped");
  auto rejected = object.find("rejected");
  if (rejected != object.end() && rejected->is_object()) {
    for (const auto& [name, n] : rejected->items()) {
      auto reason = core::ParseRejectReason(name);
      if (reason && n.is_number_integer() && n.get<std::int64_t>() > 0) {
        tally.rejected[*reason] = n.get<std::int64_t>();
      }
    }
  }
  return tally;
}

// What the sink's callbacks update; shared with them so that they stay valid after the stream
// is destroyed.
struct ControlIngest::Progress {
  IngestTally tally;
  std::size_t outstanding = 0;
  std::int64_t failed = 0;
  bool finished = false;
  std::function<void(json)> done;
  std::function<void()> on_room;
  // Set by Finish: builds the final result from the commit counts.
  std::function<json()> result;

  void MaybeComplete() {
    if (!finished || outstanding > 0 || !done) return;
    auto call = std::exchange(done, nullptr);
    call(result());
  }
};

ControlIngest::ControlIngest(const Config& config, const IngestRequest& request, core::Clock& clock,
                             drivers::FrameSink& sink, const IngestCommitCounts& counts)
    : metrics_(config.metrics),
      sink_(sink),
      counts_(counts),
      counts_at_start_(counts),
      framer_(FrameSpecOf(request).max_line),
      decoder_(FrameSpecOf(request), metrics_, clock, config.clock.trust_unsynced),
      progress_(std::make_shared<Progress>()) {
  sink_.SetConnected(kIngestInput, true);
}

ControlIngest::~ControlIngest() {
  progress_->done = nullptr;
  progress_->on_room = nullptr;
  progress_->result = nullptr;
}

void ControlIngest::Detach() {
  if (!attached_) return;
  attached_ = false;
  progress_->done = nullptr;
  progress_->on_room = nullptr;
  sink_.SetConnected(kIngestInput, false);
}

void ControlIngest::Feed(std::string_view bytes) {
  framer_.Feed(bytes, [this](const drivers::FramerEvent& event) { OnEvent(event); });
}

void ControlIngest::Finish(std::function<void(json)> done) {
  framer_.Finish([this](const drivers::FramerEvent& event) { OnEvent(event); });
  Progress& p = *progress_;
  p.finished = true;
  p.done = std::move(done);
  p.result = [this] {
    Progress& progress = *progress_;
    IngestTally tally = progress.tally;
    tally.accepted = counts_.accepted - counts_at_start_.accepted;
    tally.duplicates += counts_.duplicates - counts_at_start_.duplicates;
    tally.dropped = counts_.dropped - counts_at_start_.dropped;
    json result = IngestTallyToJson(tally);
    result["failed"] = progress.failed;
    return result;
  };
  p.MaybeComplete();
}

bool ControlIngest::HasRoom() const { return progress_->outstanding < kMaxOutstandingFrames; }

void ControlIngest::OnRoom(std::function<void()> on_room) {
  progress_->on_room = std::move(on_room);
}

void ControlIngest::OnEvent(const drivers::FramerEvent& event) {
  ++progress_->tally.frames;
  if (event.kind == drivers::FramerEvent::Kind::kTooLong) {
    ++progress_->tally.rejected[core::RejectReason::kTooLong];
    sink_.Reject(kIngestInput, drivers::MakeRejection(core::RejectReason::kTooLong,
                                                      "line longer than max_line", event.text));
    return;
  }
  OnLine(event.text);
}

void ControlIngest::OnLine(std::string_view line) {
  Progress& p = *progress_;
  drivers::DecodeResult result = decoder_.Decode(line);
  if (!result.frame) {
    drivers::FrameRejection rejection =
        result.rejection ? *result.rejection
                         : drivers::MakeRejection(core::RejectReason::kParse, "unparsable", line);
    ++p.tally.rejected[rejection.reason];
    sink_.Reject(kIngestInput, rejection);
    return;
  }
  drivers::DecodedFrame& frame = *result.frame;
  if (frame.seq) {
    drivers::SeqObservation seen = seq_.Observe(frame.device, *frame.seq);
    p.tally.frames_lost += seen.frames_lost;
    if (seen.frames_lost > 0) sink_.CountSeq(kIngestInput, seen.frames_lost, 0);
    if (seen.verdict == drivers::SeqVerdict::kDuplicate) {
      // A resend within this stream: its readings are duplicates (as `fieldsync ingest` counts).
      auto n = static_cast<std::int64_t>(frame.readings.size());
      p.tally.duplicates += n;
      ++p.tally.accepted_frames;
      sink_.CountSeq(kIngestInput, 0, n);
      return;
    }
  }
  ++p.outstanding;
  std::weak_ptr<Progress> weak = progress_;
  sink_.Submit(kIngestInput, std::move(frame), [weak](const drivers::SubmitResult& submitted) {
    auto progress = weak.lock();
    if (!progress) return;
    --progress->outstanding;
    switch (submitted.status) {
      case drivers::SubmitStatus::kDurable:
        ++progress->tally.accepted_frames;
        break;
      case drivers::SubmitStatus::kRefusedFull:
        ++progress->tally.rejected[core::RejectReason::kStoreFull];
        break;
      case drivers::SubmitStatus::kFailed:
        ++progress->failed;
        break;
    }
    if (progress->on_room && progress->outstanding <= kMaxOutstandingFrames / 2) {
      auto call = std::exchange(progress->on_room, nullptr);
      call();
    }
    progress->MaybeComplete();
  });
}

}  // namespace fieldsync::agent
