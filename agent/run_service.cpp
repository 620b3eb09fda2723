#include "agent/run_service.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "agent/bucket_maintenance_command.hpp"
#include "agent/cli.hpp"
#include "agent/clock_watch.hpp"
#include "agent/control_commands.hpp"
#include "agent/control_ingest.hpp"
#include "agent/control_service.hpp"
#include "agent/file_ingest.hpp"
#include "agent/grouped_commit.hpp"
#include "agent/local_store.hpp"
#include "agent/run_component.hpp"
#include "agent/run_http.hpp"
#include "agent/run_logging.hpp"
#include "agent/run_mqtt_inputs.hpp"
#include "agent/run_serial_inputs.hpp"
#include "agent/run_status.hpp"
#include "agent/run_sync.hpp"
#include "agent/service_notify.hpp"
#include "core/clock.hpp"
#include "store/seq_window.hpp"
#include "store/state_lock.hpp"
#include "store/store.hpp"

namespace fieldsync::agent {
namespace {

// Every part of the service that follows the configuration, in start order: the inputs
// (serial, MQTT), the sync loop, the HTTP server, each as a ServiceComponent. `control` is
// what the control socket and the HTTP server answer from; the sync loop reports through
// control.status (RunStatus::SetLastSync) and `sync_counters` (GET /metrics), and offers its
// commands in `commands`.
std::vector<std::unique_ptr<ServiceComponent>> MakeServiceComponents(
    boost::asio::io_context& io, core::Clock& clock, GroupedCommit& sink,
    RunCommandRegistry& commands, const ControlTargets& control, SyncCounters& sync_counters,
    RunSync*& sync) {
  std::vector<std::unique_ptr<ServiceComponent>> components;
  // First: readings held in an earlier boot are released before any new one arrives (§10).
  components.push_back(std::make_unique<ClockWatch>(io, clock, control.local.store()));
  components.push_back(std::make_unique<RunSerialInputs>(
      io, clock, sink, nullptr, drivers::SerialBackoff{},
      [&store = control.local.store()](const std::string& input) {
        std::vector<drivers::StoredSeq> history;
        auto stored = store::RecentFrameSeqs(store, input);
        if (!stored) {
          spdlog::warn("input {}: cannot read its seq window: {}", input, stored.error().message);
          return history;
        }
        for (auto& s : *stored) history.push_back(drivers::StoredSeq{std::move(s.device), s.seq});
        return history;
      }));
  components.push_back(std::make_unique<RunMqttInputs>(io, clock, sink));
  RunStatus& status = control.status;
  auto sync_loop = std::make_unique<RunSync>(
      io, clock, control.local, [&status, &sync_counters](const sync::LastSync& last) {
        status.SetLastSync(LastSync{last.at, last.ok, last.error, last.inserted, last.skipped});
        sync_counters.uploaded += last.inserted;
        sync_counters.skipped += last.skipped;
        if (!last.ok) ++sync_counters.errors;
      });
  sync = sync_loop.get();
  components.push_back(std::move(sync_loop));
  components.push_back(std::make_unique<RunHttp>(
      io, clock, RunHttp::Targets{control.local, sink, control.status, commands, sync_counters}));
  // Last: started once every input runs, so that the first status it serves shows them all.
  components.push_back(std::make_unique<ControlService>(io, clock, control));
  return components;
}

// An MQTT message callback stopped while it waited for its frame to become durable (ack =
// "durable") still waits on a handler it posted into this loop. Destroying the loop would destroy
// that handler, break the wait and let Paho send the PUBACK of a message that was never stored.
// So the loop is kept (never run again) until the process exits: the callback waits, the
// connection drops with the process, and the broker redelivers the message. Held through a
// static pointer (reachable, so leak checkers stay quiet) and not a static object, whose
// destructor would run at exit: exactly what must not happen.
void KeepLoopForHeldMessages(std::unique_ptr<boost::asio::io_context> loop) {
  static auto* kept = new std::vector<boost::asio::io_context*>();
  kept->push_back(loop.release());
}

bool SameStoreOptions(const store::StoreOptions& a, const store::StoreOptions& b) {
  return a.max_mb == b.max_mb && a.on_full == b.on_full && a.synchronous == b.synchronous;
}

class Service {
 public:
  Service(Config config, const ConfigLoader& loader, LocalStore& local, core::Clock& clock)
      : config_(std::move(config)),
        loader_(loader),
        local_(local),
        sink_(
            io_,
            [this, &local](const store::IngestBatch& batch) {
              auto committed = local.store().Commit(batch);
              // Exact per-stream counts for control-socket ingests (control_ingest.hpp).
              if (committed && batch.input == kIngestInput) ingest_counts_.Add(*committed);
              // The sync loop wakes early once a batch's worth is newly pending.
              if (committed && sync_ != nullptr) sync_->NoteCommitted(committed->accepted);
              return committed;
            },
            clock),
        run_status_(clock),
        components_(MakeServiceComponents(
            io_, clock, sink_, commands_,
            ControlTargets{local, sink_, run_status_, commands_, ingest_counts_}, sync_counters_,
            sync_)),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        watchdog_(io_),
        notify_(ServiceNotify::FromEnvironment()) {
    // `aggregate`, `backfill` and `cleanup` sent through the control socket or POST /api/run
    // while this agent holds the store.
    for (auto& [name, handler] :
         BucketMaintenanceHandlers(config_, local.store(), local.aggregates(), clock)) {
      commands_.Register(name, std::move(handler));
    }
    // `sync`: a cycle of the sync loop at once, answered with its counts (run_sync.hpp).
    commands_.Register("sync", sync_->RunRequestHandler());
  }

  ~Service() {
    components_.clear();  // inputs first: nothing may post into the loop after this but Paho
    if (ran_mqtt_) KeepLoopForHeldMessages(std::move(io_owner_));
  }

  int Run() {
    ran_mqtt_ = !config_.mqtt.empty();
    for (auto& component : components_) {
      if (auto applied = component->Apply(config_); !applied) {
        spdlog::error("{}", applied.error().message);
        // A configuration the component refuses is a usage error; a socket it cannot bind is not.
        return applied.error().code == core::Errc::kIo ? kExitFailure : kExitUsage;
      }
    }
    WaitForSignal();
    ArmWatchdog();
    notify_.Ready("gateway " + config_.gateway + ": running");
    spdlog::info("fieldsync run: gateway {} running with {} serial and {} mqtt input(s)",
                 config_.gateway, config_.serial.size(), config_.mqtt.size());
    io_.run();
    spdlog::info("fieldsync run: stopped");
    return kExitOk;
  }

 private:
  void WaitForSignal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        Reload();
        WaitForSignal();
      } else {
        Shutdown(signal);
      }
    });
  }

  void ArmWatchdog() {
    auto interval = notify_.watchdog_interval();
    if (!interval) return;
    notify_.Watchdog();
    watchdog_.expires_after(*interval);
    // Sent from the loop itself: a loop stuck in a handler stops the pings and systemd restarts.
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) ArmWatchdog();
    });
  }

  void Reload() {
    spdlog::info("SIGHUP: reloading the configuration");
    auto next = loader_();
    if (!next) {
      spdlog::error("reload failed, keeping the running configuration: {}", next.error().message);
      return;
    }
    notify_.Reloading();
    if (next->state_dir != config_.state_dir || !SameStoreOptions(next->store, config_.store)) {
      spdlog::warn("state_dir and [store] changes take effect at the next start");
      next->state_dir = config_.state_dir;
      next->store = config_.store;
    }
    for (const auto& warning : next->warnings) spdlog::warn("{}", warning);
    // Whatever is queued is committed (and acknowledged) by the inputs that received it.
    sink_.FlushAll();
    for (std::size_t i = 0; i < components_.size(); ++i) {
      auto applied = components_[i]->Apply(*next);
      if (!applied) {
        spdlog::error("reload failed, keeping the running configuration: {}",
                      applied.error().message);
        for (std::size_t j = 0; j < i; ++j) (void)components_[j]->Apply(config_);
        notify_.Ready("gateway " + config_.gateway + ": running (reload failed)");
        return;
      }
    }
    if (auto logging = ConfigureRunLogging(next->log); !logging) {
      spdlog::warn("{}", logging.error().message);
    }
    config_ = std::move(*next);
    ran_mqtt_ = ran_mqtt_ || !config_.mqtt.empty();
    notify_.Ready("gateway " + config_.gateway + ": running");
    spdlog::info("configuration reloaded: {} serial and {} mqtt input(s)", config_.serial.size(),
                 config_.mqtt.size());
  }

  void Shutdown(int signal) {
    notify_.Stopping();
    spdlog::info("signal {}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    for (auto& component : components_) component->PauseIntake();
    sink_.FlushAll();
    for (auto& component : components_) component->Stop();
    // Leaves the buckets complete for whoever reads the store next; a failure loses nothing
    // (the readings stay in the outbox and are folded at the next start).
    if (auto folded = local_.aggregates().FoldAll(); !folded) {
      spdlog::warn("stopping: {}", folded.error().message);
    }
    if (sink_.stats().frames_failed > 0) {
      spdlog::error("{} frames could not be stored and were not acknowledged",
                    sink_.stats().frames_failed);
    }
    watchdog_.cancel();
    signals_.cancel();
    io_.stop();  // handlers left (cancelled reads) are destroyed with the io_context
  }

  Config config_;
  const ConfigLoader& loader_;
  LocalStore& local_;
  // One thread runs it: no locking in handlers. Owned through a pointer so that ~Service can
  // keep it alive past the service when MQTT inputs ran (KeepLoopForHeldMessages).
  std::unique_ptr<boost::asio::io_context> io_owner_ = std::make_unique<boost::asio::io_context>(1);
  boost::asio::io_context& io_ = *io_owner_;
  IngestCommitCounts ingest_counts_;
  RunCommandRegistry commands_;
  GroupedCommit sink_;
  RunStatus run_status_;
  SyncCounters sync_counters_;
  RunSync* sync_ = nullptr;  // owned by components_; set while they are made
  std::vector<std::unique_ptr<ServiceComponent>> components_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer watchdog_;
  ServiceNotify notify_;
  bool ran_mqtt_ = false;
};

}  // namespace

int RunService(const ConfigLoader& load_config) {
  auto config = load_config();
  if (!config) {
    std::cerr << "fieldsync: " << config.error().message << "\n";
    return kExitUsage;
  }
  if (auto logging = ConfigureRunLogging(config->log); !logging) {
    std::cerr << "fieldsync: " << logging.error().message << "\n";
    return kExitUsage;
  }
  for (const auto& warning : config->warnings) spdlog::warn("{}", warning);

  std::error_code ec;
  std::filesystem::create_directories(config->state_dir, ec);
  if (ec) {
    spdlog::error("cannot create state_dir {}: {}", config->state_dir, ec.message());
    return kExitFailure;
  }
  // Held until return: one writer of the store at a time (§3).
  auto lock = store::StateLock::Acquire(config->state_dir);
  if (!lock) {
    spdlog::error("cannot run: {}", lock.error().message);
    return kExitFailure;
  }
  core::SystemClock clock;
  // With its aggregates as the store's observer: the buckets follow every commit (§4).
  auto local = LocalStore::Open(*config, clock);
  if (!local) {
    spdlog::error("cannot open the store: {}", local.error().message);
    return kExitFailure;
  }
  Service service(std::move(*config), load_config, **local, clock);
  return service.Run();
}

}  // namespace fieldsync::agent
