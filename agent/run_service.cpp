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

#include "agent/cli.hpp"
#include "agent/clock_watch.hpp"
#include "agent/control_commands.hpp"
#include "agent/control_ingest.hpp"
#include "agent/control_service.hpp"
#include "agent/file_ingest.hpp"
#include "agent/grouped_commit.hpp"
#include "agent/local_store.hpp"
#include "agent/run_component.hpp"
#include "agent/run_logging.hpp"
#include "agent/run_serial_inputs.hpp"
#include "agent/run_status.hpp"
#include "agent/run_sync.hpp"
#include "agent/service_notify.hpp"
#include "core/clock.hpp"
#include "store/state_lock.hpp"
#include "store/store.hpp"

namespace fieldsync::agent {
namespace {

// Every part of the service that follows the configuration, in start order. The MQTT inputs,
// the HTTP server and the sync loop are added here, each as a ServiceComponent. `control` is
// what the control socket answers from; the sync loop reports through control.status
// (RunStatus::SetLastSync) and offers its commands in `commands`.
std::vector<std::unique_ptr<ServiceComponent>> MakeServiceComponents(
    boost::asio::io_context& io, core::Clock& clock, GroupedCommit& sink,
    RunCommandRegistry& commands, const ControlTargets& control, RunSync*& sync) {
  (void)commands;  // the sync loop registers sync/aggregate/backfill/cleanup here
  std::vector<std::unique_ptr<ServiceComponent>> components;
  // First: readings held in an earlier boot are released before any new one arrives (§10).
  components.push_back(std::make_unique<ClockWatch>(io, clock, control.local.store()));
  components.push_back(std::make_unique<RunSerialInputs>(io, clock, sink));
  RunStatus& status = control.status;
  auto sync_loop =
      std::make_unique<RunSync>(io, clock, control.local, [&status](const sync::LastSync& last) {
        status.SetLastSync(LastSync{last.at, last.ok, last.error, last.inserted, last.skipped});
      });
  sync = sync_loop.get();
  components.push_back(std::move(sync_loop));
  // Last: started once every input runs, so that the first status it serves shows them all.
  components.push_back(std::make_unique<ControlService>(io, clock, control));
  return components;
}

bool SameStoreOptions(const store::StoreOptions& a, const store::StoreOptions& b) {
  return a.max_mb == b.max_mb && a.on_full == b.on_full && a.synchronous == b.synchronous;
}

class Service {
 public:
  Service(Config config, const ConfigLoader& loader, LocalStore& local, core::Clock& clock)
      : config_(std::move(config)),
        loader_(loader),
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
            ControlTargets{local, sink_, run_status_, commands_, ingest_counts_}, sync_)),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        watchdog_(io_),
        notify_(ServiceNotify::FromEnvironment()) {}

  int Run() {
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
    spdlog::info("fieldsync run: gateway {} running with {} serial input(s)", config_.gateway,
                 config_.serial.size());
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
    notify_.Ready("gateway " + config_.gateway + ": running");
    spdlog::info("configuration reloaded: {} serial input(s)", config_.serial.size());
  }

  void Shutdown(int signal) {
    notify_.Stopping();
    spdlog::info("signal {}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    for (auto& component : components_) component->PauseIntake();
    sink_.FlushAll();
    for (auto& component : components_) component->Stop();
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
  boost::asio::io_context io_{1};  // one thread runs it: no locking in handlers
  IngestCommitCounts ingest_counts_;
  RunCommandRegistry commands_;
  GroupedCommit sink_;
  RunStatus run_status_;
  RunSync* sync_ = nullptr;  // owned by components_; set while they are made
  std::vector<std::unique_ptr<ServiceComponent>> components_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer watchdog_;
  ServiceNotify notify_;
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
  // With its aggregate tables: every commit of the service maintains the buckets (§4).
  auto local = LocalStore::Open(*config, clock);
  if (!local) {
    spdlog::error("cannot open the store: {}", local.error().message);
    return kExitFailure;
  }
  Service service(std::move(*config), load_config, **local, clock);
  return service.Run();
}

}  // namespace fieldsync::agent
