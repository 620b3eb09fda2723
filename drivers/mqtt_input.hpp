#pragma once
// MqttInput: the `[[mqtt]]` input (§2) on Eclipse Paho MQTT C++.
//
// - Persistent session (clean session off, the configured client_id), so QoS 1 messages published
//   while the agent was down are delivered when it returns. Every template's filter is
//   (re)subscribed at the input's qos on each connect.
// - The first connection is retried every 1 s doubling to 30 s (timers on the agent's loop); after
//   a connection was up, Paho's automatic reconnect does the same with the same bounds.
// - tcp:// or ssl:// (ca_file, cert_file + key_file), username and password. The password is
//   never logged.
// - Messages are handled on Paho's callback thread: topic -> TopicCapture -> FrameDecoder. Sink
//   calls are posted to the agent's io_context; the sink is never called from Paho's thread.
//
// ack = "durable": the callback waits until the frame is durable before it returns, because Paho C
// sends the PUBACK right after the callback returns. Paho C++ always tells Paho C "handled", and
// Paho C's "not handled" would not withhold the PUBACK anyway (it only re-queues the message inside
// the process), so the callback cannot refuse a message: while the store refuses the frame (full
// with reject_new, or an I/O error) it keeps retrying with backoff and does not return. No PUBACK
// goes out, the broker's in-flight window fills and it keeps further messages in the session.
// The callback runs under Paho C's process-wide lock: while it waits, every Paho client of the
// process waits too (all [[mqtt]] inputs), and no disconnect can proceed.
// Stop disconnects (on a thread of its own, so that the loop is never blocked behind Paho's
// lock), then closes a gate every Paho callback passes through and waits until none is inside:
// when Stop returns, no connect, connection-lost or message callback can reach the input or the
// sink any more (work already posted to the io_context still runs). A message delivered after the
// disconnect is returned unhandled: no PUBACK can follow, so the broker redelivers it.
// Stop while a message is held: off the loop Stop waits `stop_timeout` for it; on the loop (where
// the held callback waits for the loop) it does not wait. If it is still not durable the
// client is left open (deliberately leaked, logged) and the callback keeps retrying; if the process
// exits first, the connection drops without a PUBACK and the broker redelivers the message.
// ack = "received": the frame is handed to the grouped commit and the callback returns at once;
// a crash or power cut may lose what arrived in the last commit interval.
//
// Thread-safety: Create/Start/Stop and the destructor are called from one thread (normally the
// agent's loop thread; Stop blocks it for at most twice `stop_timeout`). The io_context must keep
// running while Stop waits for a durable commit, and `io` and `sink` must outlive the input (and a
// held callback Stop left behind: in the service both live until the process exits).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/expected.hpp"
#include "drivers/frame_decoder.hpp"
#include "drivers/frame_sink.hpp"
#include "drivers/input_specs.hpp"
#include "drivers/topic_template.hpp"

namespace fieldsync::drivers {

struct MqttInputOptions {
  std::chrono::milliseconds min_retry{1000};   // first reconnect delay
  std::chrono::milliseconds max_retry{30000};  // backoff cap
  std::chrono::seconds keep_alive{30};
  std::chrono::seconds stop_timeout{5};  // Stop waits at most this for Paho
};

class MqttInput {
 public:
  // Validates the spec (url scheme, client_id, topic templates, qos 0..2, TLS files readable
  // with ssl://) and builds the Paho client; does not connect. `io` and `sink` must outlive it.
  // Errc::kInvalidArgument naming the input and the bad setting.
  static core::Expected<std::unique_ptr<MqttInput>> Create(MqttSpec spec, FrameDecoder decoder,
                                                           boost::asio::io_context& io,
                                                           FrameSink& sink,
                                                           MqttInputOptions options = {});
  ~MqttInput();  // Stops if running.
  MqttInput(const MqttInput&) = delete;
  MqttInput& operator=(const MqttInput&) = delete;

  // Starts connecting in the background and returns; connection state goes to
  // FrameSink::SetConnected. kBusy after a Stop that left a held message behind.
  core::Status Start();
  // Disconnects and waits (bounded) for Paho, then until no Paho callback is running; no sink
  // call is posted afterwards except those already queued on the io_context (and those of a held
  // message Stop had to leave behind, see above). Idempotent.
  void Stop();

  const std::string& name() const;

 private:
  struct State;
  explicit MqttInput(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// The subscription filters of `templates`, in order, without duplicates.
std::vector<std::string> SubscriptionFilters(const std::vector<TopicTemplate>& templates);

}  // namespace fieldsync::drivers
