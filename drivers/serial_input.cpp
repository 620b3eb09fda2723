#include "drivers/serial_input.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <string_view>
#include <utility>

namespace fieldsync::drivers {
namespace {

// ACKs waiting for the port; more would mean the port does not drain, and the firmware resends.
constexpr std::size_t kMaxQueuedAcks = 1024;

}  // namespace

core::Expected<std::shared_ptr<SerialInput>> SerialInput::Create(
    boost::asio::io_context& io, SerialSpec spec, std::map<std::string, core::MetricSpec> metrics,
    core::Clock& clock, bool trust_unsynced, FrameSink& sink,
    std::shared_ptr<SerialPortOpener> opener, SerialBackoff backoff) {
  if (auto valid = ValidateSerialSpec(spec); !valid) return valid.error();
  if (spec.frame.max_line == 0) {
    return core::MakeError(core::Errc::kInvalidArgument,
                           "serial input '" + spec.name + "': max_line must be positive");
  }
  if (!opener) opener = std::make_shared<TtyPortOpener>();
  return std::shared_ptr<SerialInput>(new SerialInput(io, std::move(spec), std::move(metrics),
                                                      clock, trust_unsynced, sink,
                                                      std::move(opener), backoff));
}

SerialInput::SerialInput(boost::asio::io_context& io, SerialSpec spec,
                         std::map<std::string, core::MetricSpec> metrics, core::Clock& clock,
                         bool trust_unsynced, FrameSink& sink,
                         std::shared_ptr<SerialPortOpener> opener, SerialBackoff backoff)
    : spec_(std::move(spec)),
      metrics_(std::move(metrics)),
      sink_(sink),
      opener_(std::move(opener)),
      backoff_(backoff),
      decoder_(spec_.frame, metrics_, clock, trust_unsynced),
      framer_(spec_.frame.max_line),
      port_(io),
      reopen_timer_(io),
      next_delay_(backoff.first) {}

SerialInput::~SerialInput() = default;  // port_ closes its descriptor, if still open

void SerialInput::PrimeSeqs(const std::vector<StoredSeq>& stored) {
  for (const StoredSeq& s : stored) seq_.Observe(s.device, s.seq);
}

void SerialInput::Start() {
  stopped_ = false;
  intake_ = true;
  if (port_.is_open()) {
    ReadMore();
    return;
  }
  TryOpen();
}

void SerialInput::PauseIntake() { intake_ = false; }

void SerialInput::Stop() {
  if (stopped_) return;
  stopped_ = true;
  intake_ = false;
  reopen_timer_.cancel();
  // The last ACKs (frames committed just before shutdown or reload) go out now, without
  // waiting: a short write to a tty either fits its buffer at once or the port is stuck, and
  // then the firmware resends.
  if (port_.is_open() && !writing_) {
    for (const std::string& ack : acks_) {
      if (::write(port_.native_handle(), ack.data(), ack.size()) !=
          static_cast<ssize_t>(ack.size())) {
        break;
      }
      ++counters_.acks_written;
    }
  }
  ClosePort();
}

void SerialInput::TryOpen() {
  if (stopped_) return;
  auto opened = opener_->Open(spec_);
  if (!opened) {
    ++counters_.open_failures;
    // Log each new reason once; repeating it every retry would flood the journal.
    if (opened.error().message != last_open_error_) {
      spdlog::warn("input {}: {}; retrying, at most {} ms apart", spec_.name,
                   opened.error().message, backoff_.max.count());
      last_open_error_ = opened.error().message;
    }
    ScheduleReopen(next_delay_);
    next_delay_ = std::min(next_delay_ * 2, backoff_.max);
    return;
  }
  boost::system::error_code ec;
  port_.assign(opened->get(), ec);
  if (ec) {
    // `opened` still owns the descriptor and closes it.
    ++counters_.open_failures;
    spdlog::warn("input {}: cannot use {}: {}", spec_.name, spec_.port, ec.message());
    ScheduleReopen(next_delay_);
    return;
  }
  opened->release();  // port_ owns it now
  ++generation_;
  ++counters_.opens;
  next_delay_ = backoff_.first;
  last_open_error_.clear();
  framer_.Reset();
  // in_flight_ is kept: a resend of a frame still being committed is answered by its ACK.
  spdlog::info("input {}: opened {} at {} baud", spec_.name, spec_.port, spec_.baud);
  sink_.SetConnected(spec_.name, true);
  if (intake_) ReadMore();
}

void SerialInput::ScheduleReopen(std::chrono::milliseconds delay) {
  if (stopped_) return;
  reopen_timer_.expires_after(delay);
  reopen_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->TryOpen();
  });
}

void SerialInput::ReadMore() {
  port_.async_read_some(boost::asio::buffer(buffer_),
                        [self = shared_from_this(), gen = generation_](
                            const boost::system::error_code& ec, std::size_t n) {
                          if (gen == self->generation_) self->OnRead(ec, n);
                        });
}

void SerialInput::OnRead(const boost::system::error_code& ec, std::size_t n) {
  if (ec) {
    if (ec == boost::asio::error::operation_aborted) return;  // closed by us
    Lose(ec == boost::asio::error::eof ? std::string("end of file") : ec.message());
    return;
  }
  if (!intake_) return;  // shutting down: not acknowledged, so the firmware keeps these
  framer_.Feed(std::string_view(buffer_.data(), n), [this](const FramerEvent& event) {
    if (event.kind == FramerEvent::Kind::kTooLong) {
      sink_.Reject(spec_.name, MakeRejection(core::RejectReason::kTooLong,
                                             "line longer than max_line", event.text));
    } else {
      HandleLine(event.text);
    }
  });
  if (port_.is_open() && intake_) ReadMore();
}

void SerialInput::Lose(const std::string& why) {
  ++counters_.losses;
  spdlog::warn("input {}: lost {}: {}; reopening in {} ms", spec_.name, spec_.port, why,
               backoff_.first.count());
  ClosePort();
  next_delay_ = backoff_.first;
  ScheduleReopen(next_delay_);
  next_delay_ = std::min(next_delay_ * 2, backoff_.max);
}

void SerialInput::ClosePort() {
  acks_.clear();
  writing_ = false;
  ++generation_;  // handlers of the closed port find a newer generation and do nothing
  if (!port_.is_open()) return;
  boost::system::error_code ignored;
  port_.cancel(ignored);
  port_.close(ignored);  // closes the descriptor even when cancel failed
  sink_.SetConnected(spec_.name, false);
}

void SerialInput::HandleLine(std::string_view line) {
  DecodeResult result = decoder_.Decode(line);
  if (!result.accepted()) {
    sink_.Reject(spec_.name, *result.rejection);
    // A frame that a resend would get refused the same way is acknowledged (§2): firmware that
    // keeps unacknowledged frames would otherwise resend it for ever. A checksum failure is not:
    // the resend may arrive intact.
    if (spec_.ack && result.rejected_seq && !ResendCanCure(result.rejection->reason) &&
        !InFlight(*result.rejected_seq)) {
      QueueAck(*result.rejected_seq);
    }
    return;
  }
  DecodedFrame frame = std::move(*result.frame);
  std::weak_ptr<SerialInput> weak = weak_from_this();
  if (!frame.seq) {
    sink_.Submit(spec_.name, std::move(frame), [](const SubmitResult&) {});
    return;
  }
  const std::uint32_t seq = *frame.seq;
  SeqObservation seen = seq_.Observe(frame.device, seq);
  switch (seen.verdict) {
    case SeqVerdict::kDuplicate: {
      sink_.CountSeq(spec_.name, 0, 1);
      // Acknowledge again (the first ACK was lost) unless the original is still being committed:
      // its own ACK follows then.
      auto it = in_flight_.find(frame.device);
      bool pending = it != in_flight_.end() && it->second.count(seq) > 0;
      if (spec_.ack && !pending) QueueAck(seq);
      return;
    }
    case SeqVerdict::kLate:
      sink_.CountSeq(spec_.name, -1, 0);  // it was counted lost when the gap was seen
      break;
    case SeqVerdict::kNew:
      if (seen.frames_lost > 0) sink_.CountSeq(spec_.name, seen.frames_lost, 0);
      break;
    case SeqVerdict::kRestart:
      spdlog::info("input {}: device {} restarted its seq counter at {}", spec_.name, frame.device,
                   seq);
      break;
  }
  std::string device = frame.device;
  frame.seq_tracked = true;
  in_flight_[device].insert(seq);
  sink_.Submit(spec_.name, std::move(frame), [weak, device, seq](const SubmitResult& done) {
    if (auto self = weak.lock()) self->OnFrameDone(device, seq, done);
  });
}

bool SerialInput::InFlight(std::uint32_t seq) const {
  // Any device: a rejected frame's device may be unreadable. An ACK for that seq now would tell
  // the firmware that a frame still being committed is safe.
  for (const auto& [device, seqs] : in_flight_) {
    if (seqs.count(seq) > 0) return true;
  }
  return false;
}

void SerialInput::OnFrameDone(const std::string& device, std::uint32_t seq,
                              const SubmitResult& result) {
  auto it = in_flight_.find(device);
  if (it != in_flight_.end()) {
    it->second.erase(seq);
    if (it->second.empty()) in_flight_.erase(it);
  }
  if (result.status == SubmitStatus::kDurable) {
    if (spec_.ack) QueueAck(seq);
    return;
  }
  // Not stored: the resend must not be taken for a duplicate of something we have.
  seq_.Forget(device);
}

void SerialInput::QueueAck(std::uint32_t seq) {
  if (!port_.is_open() || acks_.size() >= kMaxQueuedAcks) return;
  acks_.push_back("ACK " + std::to_string(seq) + "\n");
  WriteNextAck();
}

void SerialInput::WriteNextAck() {
  if (writing_ || acks_.empty()) return;
  writing_ = true;
  boost::asio::async_write(port_, boost::asio::buffer(acks_.front()),
                           [self = shared_from_this(), gen = generation_](
                               const boost::system::error_code& ec, std::size_t) {
                             if (gen != self->generation_) return;  // the port was closed meanwhile
                             self->writing_ = false;
                             if (ec) {
                               self->Lose(ec.message());
                               return;
                             }
                             self->acks_.pop_front();
                             ++self->counters_.acks_written;
                             if (self->stopped_ && self->acks_.empty()) {
                               self->ClosePort();
                             } else {
                               self->WriteNextAck();
                             }
                           });
}

}  // namespace fieldsync::drivers
