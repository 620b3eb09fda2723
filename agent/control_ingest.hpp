#pragma once
// ControlIngest: one `ingest` stream received on the control socket, fed into the running
// agent's FrameSink as input "ingest" with the decoding of `fieldsync ingest` (line framer, frame
// decoder with the configured [metrics] and [clock], seq tracking per device). It answers with
// the same counts as the command (IngestTally) once every frame it submitted was committed.
//
// The sink reports per frame whether it is durable; the exact numbers of readings stored and
// found duplicate come from the store's commit results for input "ingest", which the service
// reports to IngestCommitCounts. Only one stream may feed the input at a time (the control
// server refuses a second), so every such commit belongs to the running stream.
//
// Thread-safety: none; the event loop thread only. The object may be destroyed while frames are
// still queued in the sink (the client went away): their callbacks then update nothing.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "agent/config.hpp"
#include "agent/control_protocol.hpp"
#include "agent/file_ingest.hpp"
#include "core/clock.hpp"
#include "core/expected.hpp"
#include "drivers/frame_decoder.hpp"
#include "drivers/frame_sink.hpp"
#include "drivers/line_framer.hpp"
#include "drivers/seq_tracker.hpp"
#include "store/store.hpp"

namespace fieldsync::agent {

// Running totals of the store's answers to commits of input "ingest".
struct IngestCommitCounts {
  std::int64_t accepted = 0;
  std::int64_t duplicates = 0;
  std::int64_t dropped = 0;
  void Add(const store::CommitResult& result) {
    accepted += result.accepted;
    duplicates += result.duplicates;
    dropped += result.dropped;
  }
};

// IngestTally as JSON (the `result` of an ingest request and `fieldsync ingest --json`), and
// back; unknown reasons in `rejected` are ignored.
nlohmann::json IngestTallyToJson(const IngestTally& tally);
IngestTally IngestTallyFromJson(const nlohmann::json& json);

class ControlIngest {
 public:
  // Frames beyond this many submitted and not yet committed: the caller should stop reading
  // until OnRoom fires.
  static constexpr std::size_t kMaxOutstandingFrames = 2048;

  // `clock`, `sink` and `counts` must outlive this object; `config` is copied.
  ControlIngest(const Config& config, const IngestRequest& request, core::Clock& clock,
                drivers::FrameSink& sink, const IngestCommitCounts& counts);
  ~ControlIngest();  // touches nothing outside: call Detach first
  ControlIngest(const ControlIngest&) = delete;
  ControlIngest& operator=(const ControlIngest&) = delete;

  void Feed(std::string_view bytes);
  // End of the stream: the last unterminated line is a frame. `done` runs once every submitted
  // frame has been committed (possibly before Finish returns) with IngestTallyToJson plus
  // "failed": frames the store could not take (I/O errors; not stored, send them again).
  void Finish(std::function<void(nlohmann::json)> done);

  // The stream is over (answered or abandoned): no callback runs any more and the input is
  // reported disconnected. Idempotent.
  void Detach();

  bool HasRoom() const;
  // Runs `on_room` once, as soon as outstanding frames fall to half the limit.
  void OnRoom(std::function<void()> on_room);

 private:
  struct Progress;
  void OnEvent(const drivers::FramerEvent& event);
  void OnLine(std::string_view line);

  std::map<std::string, core::MetricSpec> metrics_;  // the decoder refers to it
  drivers::FrameSink& sink_;
  const IngestCommitCounts& counts_;
  IngestCommitCounts counts_at_start_;
  drivers::LineFramer framer_;
  drivers::FrameDecoder decoder_;
  drivers::SeqTracker seq_;
  std::shared_ptr<Progress> progress_;
  bool attached_ = true;
};

}  // namespace fieldsync::agent
