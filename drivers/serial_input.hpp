#pragma once
// SerialInput: one [[serial]] input of `fieldsync run` (§2) on a Boost.Asio serial_port.
//
// Bytes read from the port are cut into lines by a LineFramer (any read size), each line decoded
// by the input's own FrameDecoder, and every decoded frame handed to the FrameSink. Frames with
// `seq` go through a SeqTracker: gaps are counted as frames_lost, a resend of a frame already
// handed over (same seq) is not stored again but counted as a duplicate frame.
//
// Port loss: a read error or end of file (USB unplug: EIO, ENODEV, EOF), or a port that cannot
// be opened, closes the port and retries after backoff.first, doubling up to backoff.max while
// opening fails; once open again it resumes without restarting anything. Every path closes the
// descriptor (opened O_CLOEXEC by the opener), so reconnecting leaks none. Each (re)open drops
// any partial line. The seq window is kept across reopens (and, through the store, across agent
// restarts): firmware that survives the reopen resends its unacknowledged frames with their old
// seq, and those must stay duplicates; a board that resets (an Uno when the port opens) starts
// its counter at 0 again, which the tracker takes as a restart.
//
// ACK (spec.ack): once a frame carrying `seq` is durable (SubmitStatus::kDurable), "ACK <seq>\n"
// is written back, and again for a resend of a durable frame. A frame the decoder rejects for a
// reason a resend cannot cure (ResendCanCure: everything but checksum) is acknowledged at once
// when its seq could be read (unless a frame with that seq is still being committed: its own ACK
// answers), so that the firmware stops resending it. Nothing is acknowledged
// for a checksum failure, nor for a frame the store refused (store_full) or failed to commit;
// then its seq is forgotten so that the resend is stored. Writes are queued and written one at a
// time; they are dropped when the port is lost (the firmware resends, the store keeps one reading
// per device ts).
//
// Lifetime and threads: created with Create() as a shared_ptr; every callback (asio handlers,
// the sink's `done`) holds a weak or shared reference, so destroying the owner's pointer after
// Stop() is safe while handlers are still queued. All calls on the io_context's thread.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/expected.hpp"
#include "core/metric_spec.hpp"
#include "drivers/frame_decoder.hpp"
#include "drivers/frame_sink.hpp"
#include "drivers/input_specs.hpp"
#include "drivers/line_framer.hpp"
#include "drivers/seq_tracker.hpp"
#include "drivers/serial_port.hpp"

namespace fieldsync::drivers {

struct SerialBackoff {
  std::chrono::milliseconds first{1000};  // after a loss, and the first retry of a failed open
  std::chrono::milliseconds max{30000};   // cap of the doubling while opening keeps failing
};

struct SerialInputCounters {
  std::int64_t opens = 0;  // successful opens, the first one included
  std::int64_t open_failures = 0;
  std::int64_t losses = 0;  // times the open port failed (unplug, EOF)
  std::int64_t acks_written = 0;
};

class SerialInput : public std::enable_shared_from_this<SerialInput> {
 public:
  // kInvalidArgument for an unsupported baud rate (see ValidateSerialSpec). The metric specs
  // are copied; `clock` and `sink` must outlive the input; `opener` defaults to TtyPortOpener.
  static core::Expected<std::shared_ptr<SerialInput>> Create(
      boost::asio::io_context& io, SerialSpec spec, std::map<std::string, core::MetricSpec> metrics,
      core::Clock& clock, bool trust_unsynced, FrameSink& sink,
      std::shared_ptr<SerialPortOpener> opener = nullptr, SerialBackoff backoff = {});

  ~SerialInput();
  SerialInput(const SerialInput&) = delete;
  SerialInput& operator=(const SerialInput&) = delete;

  // Rebuilds the seq window from the seqs stored before (oldest first, as the store kept them:
  // store/seq_window.hpp), so that a frame resent across an agent restart is not stored twice.
  // Call before Start.
  void PrimeSeqs(const std::vector<StoredSeq>& stored);
  // Opens the port (or schedules the retry) and starts reading.
  void Start();
  // Stops reading; the port stays open so that ACKs of frames still in flight can be written.
  void PauseIntake();
  // Stops for good: ACKs already queued are written without blocking (what does not fit the
  // port's buffer is dropped; the firmware resends), then the port is closed and the input
  // marked disconnected. Synchronous; idempotent.
  void Stop();

  const SerialSpec& spec() const { return spec_; }
  bool connected() const { return port_.is_open(); }
  const SerialInputCounters& counters() const { return counters_; }

 private:
  SerialInput(boost::asio::io_context& io, SerialSpec spec,
              std::map<std::string, core::MetricSpec> metrics, core::Clock& clock,
              bool trust_unsynced, FrameSink& sink, std::shared_ptr<SerialPortOpener> opener,
              SerialBackoff backoff);

  void TryOpen();
  void ScheduleReopen(std::chrono::milliseconds delay);
  void ReadMore();
  void OnRead(const boost::system::error_code& ec, std::size_t n);
  void Lose(const std::string& why);
  void ClosePort();
  void HandleLine(std::string_view line);
  bool InFlight(std::uint32_t seq) const;  // some device's frame with this seq is being committed
  void OnFrameDone(const std::string& device, std::uint32_t seq, const SubmitResult& result);
  void QueueAck(std::uint32_t seq);
  void WriteNextAck();

  SerialSpec spec_;
  std::map<std::string, core::MetricSpec> metrics_;  // before decoder_: it holds a reference
  FrameSink& sink_;
  std::shared_ptr<SerialPortOpener> opener_;
  SerialBackoff backoff_;
  FrameDecoder decoder_;
  LineFramer framer_;
  SeqTracker seq_;
  boost::asio::serial_port port_;
  boost::asio::steady_timer reopen_timer_;
  std::array<char, 1024> buffer_{};
  std::chrono::milliseconds next_delay_;
  std::string last_open_error_;
  // seqs handed to the sink and not yet answered, per device: a resend of one of these is
  // acknowledged by the original's ACK, not on its own.
  std::map<std::string, std::set<std::uint32_t>> in_flight_;
  std::deque<std::string> acks_;  // front is being written while writing_
  bool writing_ = false;
  std::uint64_t generation_ = 0;  // bumped on every open and close; stale handlers check it
  bool intake_ = false;           // false once paused or stopped
  bool stopped_ = false;
  SerialInputCounters counters_;
};

}  // namespace fieldsync::drivers
