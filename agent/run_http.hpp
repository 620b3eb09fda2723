#pragma once
// RunHttp: the [http] server of `fieldsync run` (§8) as a ServiceComponent, with its routes wired
// to the running agent:
//   POST /api/data  frames decoded by the HTTP input's own FrameDecoder (json) into the
//                   grouped-commit sink as input "http"; answered once durable;
//   GET  /status    the live §9 document (RunStatus: store facts, uptime, connections, last sync);
//   GET  /metrics   a MetricsSnapshot from the same store facts, the live connections and the
//                   sync loop's counters since start;
//   POST /api/run   dispatched to the RunCommandRegistry (sync, aggregate, backfill, cleanup);
//                   a command no part of the agent offers is answered 503 "not available".
//
// Apply: listen "" stops the server. A new or changed address binds the new socket first and
// only then closes the old one, so an address that cannot be bound (error kIo) leaves the running
// server as it was. An api key or calibration change applies to the next request without
// touching the socket. While the server listens, the input "http" is reported connected.
// PauseIntake does nothing (the shutdown handler runs synchronously, so no request is read
// meanwhile); Stop closes the socket and every connection: requests whose frames were committed
// by the last grouped commit get no answer, and their clients retry.
//
// Event loop thread only; every reference passed in must outlive this object.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config.hpp"
#include "agent/control_commands.hpp"
#include "agent/grouped_commit.hpp"
#include "agent/http_routes.hpp"
#include "agent/http_server.hpp"
#include "agent/local_store.hpp"
#include "agent/prometheus.hpp"
#include "agent/run_component.hpp"
#include "agent/run_status.hpp"
#include "agent/status_document.hpp"
#include "core/clock.hpp"
#include "core/metric_spec.hpp"
#include "drivers/frame_decoder.hpp"

namespace fieldsync::agent {

// The input name of POST /api/data in counts, status and metrics.
inline constexpr const char* kHttpInput = "http";

// What the sync loop did since the agent started (Prometheus counters may reset at restart).
struct SyncCounters {
  std::int64_t uploaded = 0;  // rows inserted remotely
  std::int64_t skipped = 0;   // rows the remote already had
  std::int64_t errors = 0;    // failed cycles
};

// The metrics of §8 from the store's facts, the inputs' live connections and the sync counters.
// `now` dates the oldest pending reading. Pure.
MetricsSnapshot BuildMetricsSnapshot(const StatusFacts& facts,
                                     const std::map<std::string, bool>& connected,
                                     const SyncCounters& sync, core::TimeUs now);

// The registry command and arguments for a POST /api/run request: sync -> "sync";
// hourly|daily|full -> "aggregate" {"scope"}; backfill -> "backfill" {"days"};
// cleanup -> "cleanup" {"retention_days"}; dry_run passed on when set. Pure.
std::pair<std::string, nlohmann::json> RegistryCommand(const RunRequest& request);

class RunHttp final : public ServiceComponent {
 public:
  struct Targets {
    LocalStore& local;
    GroupedCommit& sink;
    const RunStatus& status;
    const RunCommandRegistry& commands;
    const SyncCounters& sync;
  };

  // `options` are the server's limits (its `listen` is taken from each Apply's config).
  RunHttp(boost::asio::io_context& io, core::Clock& clock, Targets targets,
          HttpServerOptions options = {});
  ~RunHttp() override;
  RunHttp(const RunHttp&) = delete;
  RunHttp& operator=(const RunHttp&) = delete;

  std::string_view kind() const override { return "http"; }
  core::Status Apply(const Config& config) override;
  void PauseIntake() override {}
  void Stop() override;

  // The bound port while listening (useful with port 0), else 0.
  std::uint16_t port() const;

 private:
  HttpServices Services();
  std::string StatusJson() const;
  MetricsSnapshot Metrics() const;
  void DispatchRun(const RunRequest& request,
                   std::function<void(core::Expected<std::string>)> done) const;

  boost::asio::io_context& io_;
  core::Clock& clock_;
  Targets targets_;
  HttpServerOptions options_;
  std::optional<Config> config_;
  // The server holds a reference to `routes_`, whose decoder pointer is `decoder_`; both are
  // replaced in place (same addresses) when the key or the calibration changes.
  std::unique_ptr<HttpRoutes> routes_;
  // Decoding is synchronous inside HttpRoutes::Handle, so a replaced decoder and its calibration
  // are no longer referenced once Apply swapped them.
  std::unique_ptr<const std::map<std::string, core::MetricSpec>> calibration_;
  std::unique_ptr<drivers::FrameDecoder> decoder_;
  std::unique_ptr<HttpServer> server_;
  std::string listening_on_;
};

}  // namespace fieldsync::agent
