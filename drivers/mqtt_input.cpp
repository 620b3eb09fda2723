#include "drivers/mqtt_input.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace fieldsync::drivers {
namespace {

namespace asio = boost::asio;

int Seconds(std::chrono::milliseconds ms) {
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(1, (ms.count() + 999) / 1000));
}

bool Readable(const std::string& path) { return std::ifstream(path).good(); }

core::Error Invalid(const MqttSpec& spec, const std::string& what) {
  return core::MakeError(core::Errc::kInvalidArgument, "mqtt input '" + spec.name + "': " + what);
}

}  // namespace

std::vector<std::string> SubscriptionFilters(const std::vector<TopicTemplate>& templates) {
  std::vector<std::string> filters;
  for (const TopicTemplate& t : templates) {
    if (std::find(filters.begin(), filters.end(), t.filter()) == filters.end()) {
      filters.push_back(t.filter());
    }
  }
  return filters;
}

// Everything the Paho callbacks and the loop's timers touch. Shared so that work posted to the
// io_context can check, through a weak_ptr, that the input still exists.
struct MqttInput::State : std::enable_shared_from_this<MqttInput::State>,
                          public mqtt::iaction_listener {
  State(MqttSpec s, FrameDecoder d, asio::io_context& context, FrameSink& frame_sink,
        MqttInputOptions o)
      : spec(std::move(s)),
        decoder(std::move(d)),
        io(context),
        sink(frame_sink),
        options(o),
        retry_timer(context),
        retry_delay(o.min_retry) {}

  MqttSpec spec;
  FrameDecoder decoder;  // used on Paho's callback thread only
  asio::io_context& io;
  FrameSink& sink;
  MqttInputOptions options;
  std::vector<TopicTemplate> templates;
  std::unique_ptr<mqtt::async_client> client;
  mqtt::connect_options connect_options;

  asio::steady_timer retry_timer;         // loop thread only
  std::chrono::milliseconds retry_delay;  // loop thread only

  std::mutex mu;
  std::condition_variable cv;
  bool running = false;       // guarded by mu
  bool stopping = false;      // guarded by mu
  bool abandoned = false;     // guarded by mu: Stop left a held callback behind
  bool closed = false;        // guarded by mu: Stop is done; callbacks return at once
  bool disconnected = false;  // guarded by mu: Stop's disconnect completed
  int in_callback = 0;        // guarded by mu: message callbacks running
  int active = 0;             // guarded by mu: Paho callbacks of any kind running

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu);
    return stopping;
  }

  // Admits one Paho callback unless Stop has closed the input; Stop waits until none is inside.
  class CallbackScope {
   public:
    explicit CallbackScope(State& state) : state_(state) {
      std::lock_guard<std::mutex> lock(state_.mu);
      admitted_ = !state_.closed;
      if (admitted_) ++state_.active;
    }
    ~CallbackScope() {
      if (!admitted_) return;
      {
        std::lock_guard<std::mutex> lock(state_.mu);
        --state_.active;
      }
      state_.cv.notify_all();
    }
    CallbackScope(const CallbackScope&) = delete;
    CallbackScope& operator=(const CallbackScope&) = delete;
    explicit operator bool() const { return admitted_; }

   private:
    State& state_;
    bool admitted_ = false;
  };

  // --- posting to the loop ---------------------------------------------------------------
  template <class F>
  void OnLoop(F f) {
    asio::post(io, [weak = weak_from_this(), f = std::move(f)]() mutable {
      if (auto self = weak.lock()) f(*self);
    });
  }

  void PostReject(FrameRejection rejection) {
    OnLoop([r = std::move(rejection)](State& s) { s.sink.Reject(s.spec.name, r); });
  }

  void PostConnected(bool up) {
    OnLoop([up](State& s) { s.sink.SetConnected(s.spec.name, up); });
  }

  // --- connecting (loop thread, and Paho's thread for the listener) -----------------------
  void Connect() {
    if (Stopping()) return;
    try {
      client->connect(connect_options, nullptr, *this);
    } catch (const std::exception& e) {
      spdlog::warn("mqtt input '{}': connect to {} failed: {}", spec.name, spec.url, e.what());
      ScheduleRetry();
    }
  }

  void ScheduleRetry() {
    OnLoop([](State& s) {
      if (s.Stopping()) return;
      s.retry_timer.expires_after(s.retry_delay);
      s.retry_delay = std::min(s.retry_delay * 2, s.options.max_retry);
      s.retry_timer.async_wait([weak = s.weak_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->Connect();
      });
    });
  }

  // iaction_listener, for the connect token (Paho's thread).
  void on_failure(const mqtt::token& tok) override {
    CallbackScope scope(*this);
    if (!scope) return;
    spdlog::warn("mqtt input '{}': cannot connect to {} (code {}); retrying", spec.name, spec.url,
                 tok.get_return_code());
    ScheduleRetry();
  }
  void on_success(const mqtt::token&) override {}

  void OnConnected() {
    CallbackScope scope(*this);
    if (!scope || Stopping()) {
      // A connect that completed after Stop's disconnect: close it again, nothing is consumed.
      try {
        client->disconnect(0);
      } catch (const std::exception&) {
        // Already closing.
      }
      return;
    }
    spdlog::info("mqtt input '{}': connected to {}", spec.name, spec.url);
    OnLoop([](State& s) { s.retry_delay = s.options.min_retry; });
    for (const std::string& filter : SubscriptionFilters(templates)) {
      try {
        client->subscribe(filter, spec.qos);
      } catch (const std::exception& e) {
        spdlog::error("mqtt input '{}': subscribe {} failed: {}", spec.name, filter, e.what());
      }
    }
    PostConnected(true);
  }

  void OnConnectionLost(const std::string& cause) {
    CallbackScope scope(*this);
    if (!scope) return;
    spdlog::warn("mqtt input '{}': connection lost{}{}", spec.name, cause.empty() ? "" : ": ",
                 cause);
    PostConnected(false);
  }

  // --- messages (Paho's thread) -----------------------------------------------------------
  void OnMessage(const mqtt::const_message_ptr& msg) {
    CallbackScope scope(*this);
    bool gated = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      gated = !scope || StoppedAndDisconnected();
      if (!gated) ++in_callback;
    }
    if (gated) {
      // Stop's disconnect completed. With the connection gone, returning sends no PUBACK (the
      // broker redelivers), while handling the message would need the loop that Stop may be
      // blocking. Still connected means a connect completed after that disconnect (it was in
      // progress, which Paho's disconnect does not cancel): then the message is handled as
      // usual, since returning would acknowledge it, and OnConnected is closing the link.
      // (Asked without mu: Paho's lock is taken first everywhere else.)
      if (!ClientConnected()) return;
      std::lock_guard<std::mutex> lock(mu);
      ++in_callback;
    }
    cv.notify_all();  // Stop watches for a message that arrives while it disconnects
    try {
      HandleMessage(*msg);
    } catch (const std::exception& e) {
      spdlog::error("mqtt input '{}': message handling failed: {}", spec.name, e.what());
    }
    bool close_now = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      --in_callback;
      close_now = abandoned && in_callback == 0;
    }
    cv.notify_all();
    if (close_now) {
      // Stop could not close the connection while this message was held; it is durable now.
      // Paho allows API calls from its callbacks.
      try {
        client->disconnect(0);
      } catch (const std::exception&) {
        // Already closing.
      }
    }
  }

  void HandleMessage(const mqtt::message& msg) {
    const std::string& topic = msg.get_topic();
    const std::string& payload = msg.get_payload_str();
    std::optional<TopicCapture> capture;
    for (const TopicTemplate& t : templates) {
      capture = t.Match(topic);
      if (capture) break;
    }
    if (!capture) {
      PostReject(MakeRejection(core::RejectReason::kParse, "topic matches no template: " + topic,
                               payload));
      return;
    }
    DecodeResult result = decoder.Decode(payload, *capture);
    if (!result.accepted()) {
      // Bad input is acknowledged: a resend cannot cure it, and it must not block the session.
      PostReject(std::move(*result.rejection));
      return;
    }
    if (spec.ack == MqttAck::kReceived) {
      OnLoop([frame = std::move(*result.frame)](State& s) mutable {
        s.sink.Submit(s.spec.name, std::move(frame), [name = s.spec.name](const SubmitResult& r) {
          if (r.status != SubmitStatus::kDurable) {
            spdlog::warn("mqtt input '{}': an acknowledged message was not stored", name);
          }
        });
      });
      return;
    }
    DeliverDurable(*result.frame);
  }

  // Invariant: a message that is not durable is never followed by a PUBACK. Paho sends the
  // PUBACK when this callback returns, and the callback runs under Paho's process-wide lock (no
  // other Paho call, not even a disconnect, proceeds meanwhile), so the only way to withhold the
  // acknowledgement is not to return: retry with backoff until the store takes the frame. If the
  // process ends meanwhile, the connection drops without a PUBACK and the broker redelivers.
  void DeliverDurable(const DecodedFrame& frame) {
    std::chrono::milliseconds delay = options.min_retry;
    bool warned = false;
    for (;;) {
      const std::optional<SubmitStatus> status = SubmitAndWait(frame);
      if (!status) return;  // given up: disconnected by Stop, so no PUBACK follows
      if (*status == SubmitStatus::kDurable) {
        if (warned) spdlog::info("mqtt input '{}': the store takes messages again", spec.name);
        return;
      }
      if (!warned) {
        spdlog::warn(
            "mqtt input '{}': the store {}; holding the acknowledgement (the broker keeps "
            "the messages)",
            spec.name, *status == SubmitStatus::kRefusedFull ? "is full" : "failed");
        warned = true;
      }
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_for(lock, delay, [this] { return StoppedAndDisconnected(); })) return;
      delay = std::min(delay * 2, options.max_retry);
    }
  }

  // REQUIRES: mu is held.
  bool StoppedAndDisconnected() const { return stopping && disconnected; }

  // REQUIRES: mu is not held (Paho takes its own lock).
  bool ClientConnected() const {
    try {
      return client->is_connected();
    } catch (const std::exception&) {
      return false;
    }
  }

  // The frame's commit outcome, or nullopt once Stop has disconnected: then returning sends no
  // PUBACK and the broker redelivers the message, so the wait for a loop that Stop may be
  // blocking ends. The submit is cancelled if the loop has not taken it yet (if it has, the
  // frame may be stored and redelivered: with a device ts that is a counted duplicate).
  std::optional<SubmitStatus> SubmitAndWait(const DecodedFrame& frame) {
    auto promise = std::make_shared<std::promise<SubmitStatus>>();
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    std::future<SubmitStatus> answer = promise->get_future();
    OnLoop([frame, promise, cancelled](State& s) mutable {
      if (cancelled->load()) return;
      s.sink.Submit(
          s.spec.name, std::move(frame),
          [promise](const SubmitResult& r) { promise->set_value(r.status); }, true);
    });
    while (answer.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
      bool stopped = false;
      {
        std::lock_guard<std::mutex> lock(mu);
        stopped = StoppedAndDisconnected();
      }
      if (stopped && !ClientConnected()) {
        cancelled->store(true);
        return std::nullopt;
      }
    }
    return answer.get();
  }
};

core::Expected<std::unique_ptr<MqttInput>> MqttInput::Create(MqttSpec spec, FrameDecoder decoder,
                                                             asio::io_context& io, FrameSink& sink,
                                                             MqttInputOptions options) {
  const bool tls = spec.url.rfind("ssl://", 0) == 0;
  if (!tls && spec.url.rfind("tcp://", 0) != 0) {
    return Invalid(spec, "url must start with tcp:// or ssl:// (got '" + spec.url + "')");
  }
  if (spec.client_id.empty()) return Invalid(spec, "client_id is required (persistent session)");
  if (spec.qos < 0 || spec.qos > 2) return Invalid(spec, "qos must be 0, 1 or 2");
  if (spec.topics.empty()) return Invalid(spec, "topics is empty");
  if (!spec.cert_file.empty() != !spec.key_file.empty()) {
    return Invalid(spec, "cert_file and key_file go together");
  }
  for (const std::string* file : {&spec.ca_file, &spec.cert_file, &spec.key_file}) {
    if (file->empty()) continue;
    if (!tls) return Invalid(spec, "TLS files need an ssl:// url");
    if (!Readable(*file)) return Invalid(spec, "cannot read " + *file);
  }
  std::vector<TopicTemplate> templates;
  for (const std::string& text : spec.topics) {
    core::Expected<TopicTemplate> parsed = TopicTemplate::Parse(text);
    if (!parsed) return parsed.error().Wrap("mqtt input '" + spec.name + "'");
    templates.push_back(std::move(*parsed));
  }

  auto state = std::make_shared<State>(std::move(spec), std::move(decoder), io, sink, options);
  state->templates = std::move(templates);
  const MqttSpec& s = state->spec;
  try {
    // No client-side persistence: the broker's session is what keeps unacknowledged messages.
    state->client = std::make_unique<mqtt::async_client>(s.url, s.client_id, nullptr);
    mqtt::connect_options& co = state->connect_options;
    co.set_mqtt_version(MQTTVERSION_3_1_1);
    co.set_clean_session(false);
    co.set_keep_alive_interval(options.keep_alive);
    co.set_automatic_reconnect(Seconds(options.min_retry), Seconds(options.max_retry));
    if (!s.username.empty()) co.set_user_name(s.username);
    if (!s.password.empty()) co.set_password(s.password);
    if (tls) {
      mqtt::ssl_options ssl;
      if (!s.ca_file.empty()) ssl.set_trust_store(s.ca_file);
      if (!s.cert_file.empty()) ssl.set_key_store(s.cert_file);
      if (!s.key_file.empty()) ssl.set_private_key(s.key_file);
      ssl.set_enable_server_cert_auth(true);
      ssl.set_verify(true);
      co.set_ssl(std::move(ssl));
    }
    std::weak_ptr<State> weak = state;
    state->client->set_connected_handler([weak](const std::string&) {
      if (auto self = weak.lock()) self->OnConnected();
    });
    state->client->set_connection_lost_handler([weak](const std::string& cause) {
      if (auto self = weak.lock()) self->OnConnectionLost(cause);
    });
    state->client->set_message_callback([weak](mqtt::const_message_ptr msg) {
      if (auto self = weak.lock()) self->OnMessage(msg);
    });
  } catch (const std::exception& e) {
    return Invalid(state->spec, std::string("cannot create the client: ") + e.what());
  }
  return std::unique_ptr<MqttInput>(new MqttInput(std::move(state)));
}

MqttInput::MqttInput(std::shared_ptr<State> state) : state_(std::move(state)) {}

MqttInput::~MqttInput() {
  Stop();
  if (state_->abandoned) {
    // Destroying the client would wait for the held callback forever. The client and its state
    // are left alive on purpose; the callback still completes once the store takes the frame.
    new std::shared_ptr<State>(state_);  // NOLINT: deliberate leak, see above
    return;
  }
  try {
    state_->client->disable_callbacks();
  } catch (const std::exception&) {
    // Destruction goes on regardless; nothing left to tell anyone.
  }
  // A Paho thread may still hold a reference it took just before the gate turned it away: the
  // state (and the Paho client in it) must not be destroyed on that thread, so wait it out.
  const auto deadline = std::chrono::steady_clock::now() + state_->options.stop_timeout;
  while (state_.use_count() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (state_.use_count() > 1) {
    spdlog::warn("mqtt input '{}': a callback still holds the client; leaving it",
                 state_->spec.name);
    new std::shared_ptr<State>(state_);  // NOLINT: deliberate leak, see above
  }
}

core::Status MqttInput::Start() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->running) return core::Ok();
    state_->running = true;
    if (state_->abandoned) {
      return core::MakeError(core::Errc::kBusy, "mqtt input '" + state_->spec.name +
                                                    "': a message is still waiting for the store");
    }
    state_->stopping = false;
    state_->closed = false;
    state_->disconnected = false;
  }
  state_->OnLoop([](State& s) { s.retry_delay = s.options.min_retry; });
  state_->Connect();
  return core::Ok();
}

void MqttInput::Stop() {
  State& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.running) return;
    s.running = false;
    s.stopping = true;
  }
  s.cv.notify_all();
  s.OnLoop([](State& st) { st.retry_timer.cancel(); });

  // A message being handled holds Paho's process-wide lock, so a disconnect blocks until it
  // returns; and it returns only once its frame is durable, which needs this loop when Stop runs
  // on it. So the disconnect runs on a thread of its own, and Stop waits for it, or, on the loop,
  // gives up as soon as a message callback is (or gets, while the disconnect waits for the lock)
  // inside: that callback is then left to finish on its own (`abandoned`).
  const bool on_loop = s.io.get_executor().running_in_this_thread();
  bool abandon = false;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    const auto idle = [&s] { return s.in_callback == 0; };
    abandon = on_loop ? !idle() : !s.cv.wait_for(lock, s.options.stop_timeout, idle);
  }
  if (!abandon) {
    auto done = std::make_shared<bool>(false);  // guarded by s.mu
    std::thread closer([state = state_, done] {
      try {
        mqtt::token_ptr tok = state->client->disconnect(0);
        if (tok) tok->wait_for(state->options.stop_timeout);
      } catch (const std::exception& e) {
        // Not connected (or already closing): nothing to close.
        spdlog::debug("mqtt input '{}': disconnect: {}", state->spec.name, e.what());
      }
      {
        std::lock_guard<std::mutex> lock(state->mu);
        state->disconnected = true;
        *done = true;
      }
      state->cv.notify_all();
    });
    // With ack = "durable" a message callback waits for the loop, so on the loop it cannot be
    // waited for; with "received" it returns at once.
    const bool held_blocks = on_loop && s.spec.ack == MqttAck::kDurable;
    std::unique_lock<std::mutex> lock(s.mu);
    s.cv.wait_for(lock, 2 * s.options.stop_timeout,
                  [&] { return *done || (held_blocks && s.in_callback > 0); });
    abandon = !*done;
    lock.unlock();
    if (abandon) {
      closer.detach();  // it completes once the held callback returns
    } else {
      closer.join();
    }
  }
  if (abandon) {
    spdlog::warn(
        "mqtt input '{}': a message is still being stored; the connection closes once it is "
        "durable (or with the process, unacknowledged)",
        s.spec.name);
    std::lock_guard<std::mutex> lock(s.mu);
    s.abandoned = true;
  } else {
    // Disconnected: no message can be acknowledged any more. Close the gate and wait for the
    // callbacks still inside (connect and connection-lost handlers, a message turned away).
    std::unique_lock<std::mutex> lock(s.mu);
    s.closed = true;
    // A message of a connect that completed after the disconnect waits for the loop (see
    // OnMessage); on the loop it is left to finish on its own, like a held one.
    const bool late_blocks = on_loop && s.spec.ack == MqttAck::kDurable;
    s.cv.wait(lock, [&] { return s.active == 0 || (late_blocks && s.in_callback > 0); });
    if (s.active > 0) {
      s.abandoned = true;
      spdlog::warn("mqtt input '{}': a message of a late connection is still being stored",
                   s.spec.name);
    }
  }
  s.PostConnected(false);
}

const std::string& MqttInput::name() const { return state_->spec.name; }

}  // namespace fieldsync::drivers
