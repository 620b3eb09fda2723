#include "agent/run_http.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/run_mqtt_inputs.hpp"  // SameCalibration
#include "drivers/http_ingest.hpp"

namespace fieldsync::agent {
namespace {

drivers::FrameSpec HttpFrameSpec() {
  drivers::FrameSpec spec;
  spec.format = drivers::FrameFormat::kJson;  // §8: bodies are JSON frames naming their device
  spec.max_line = drivers::kMaxIngestBodyBytes;
  return spec;
}

}  // namespace

MetricsSnapshot BuildMetricsSnapshot(const StatusFacts& facts,
                                     const std::map<std::string, bool>& connected,
                                     const SyncCounters& sync, core::TimeUs now) {
  MetricsSnapshot m;
  for (const auto& [name, counters] : facts.stats.inputs) {
    InputMetrics& input = m.inputs[name];
    input.readings_ingested = counters.readings;
    input.duplicates = counters.duplicates;
    input.rejected = counters.rejected;
  }
  for (const auto& [name, up] : connected) m.inputs[name].connected = up;
  m.pending_readings = facts.stats.pending_readings;
  if (facts.stats.oldest_pending_ts) {
    const core::TimeUs age = std::max<core::TimeUs>(0, now - *facts.stats.oldest_pending_ts);
    m.oldest_pending_age_seconds =
        static_cast<double>(age) / static_cast<double>(core::kMicrosPerSecond);
  }
  m.uploaded_readings = sync.uploaded;
  m.upload_skipped = sync.skipped;
  m.sync_errors = sync.errors;
  m.dropped_readings = facts.stats.dropped;
  m.late_readings = facts.stats.late;
  m.quarantined_readings = facts.stats.quarantined;
  m.store_bytes = facts.stats.bytes;
  m.clock_synced = facts.clock_synced;
  return m;
}

std::pair<std::string, nlohmann::json> RegistryCommand(const RunRequest& request) {
  nlohmann::json args = nlohmann::json::object();
  std::string command = request.command;
  if (request.command == "hourly" || request.command == "daily" || request.command == "full") {
    command = "aggregate";
    args["scope"] = request.command;
    if (request.days) args["days"] = *request.days;
  } else if (request.command == "backfill") {
    if (request.days) args["days"] = *request.days;
  } else if (request.command == "cleanup") {
    if (request.days) args["retention_days"] = *request.days;
  }
  if (request.dry_run) args["dry_run"] = true;
  return {command, args};
}

RunHttp::RunHttp(boost::asio::io_context& io, core::Clock& clock, Targets targets,
                 HttpServerOptions options)
    : io_(io), clock_(clock), targets_(targets), options_(std::move(options)) {}

RunHttp::~RunHttp() { Stop(); }

HttpServices RunHttp::Services() {
  HttpServices services;
  services.api_key = config_->http.api_key;
  services.input_name = kHttpInput;
  services.sink = &targets_.sink;
  services.decoder = decoder_.get();
  services.status_json = [this] { return StatusJson(); };
  services.metrics = [this] { return Metrics(); };
  services.run = [this](const RunRequest& request,
                        std::function<void(core::Expected<std::string>)> done) {
    DispatchRun(request, std::move(done));
  };
  return services;
}

core::Status RunHttp::Apply(const Config& config) {
  const bool decoding_changed =
      !calibration_ || !SameCalibration(*calibration_, config.metrics) ||
      (config_ && config_->clock.trust_unsynced != config.clock.trust_unsynced);
  const std::string wanted = config.http.listen;

  std::unique_ptr<HttpServer> next;
  if (!wanted.empty() && (!server_ || wanted != listening_on_)) {
    HttpServerOptions options = options_;
    options.listen = wanted;
    if (!routes_) routes_ = std::make_unique<HttpRoutes>(HttpServices{});
    auto started = HttpServer::Start(io_, options, *routes_);
    if (!started && started.error().code == core::Errc::kIo && server_) {
      // The new address may overlap the old one (127.0.0.1:8080 -> 0.0.0.0:8080): free it first,
      // and take the old one back if the new one still cannot be bound.
      server_->Stop();
      server_.reset();
      started = HttpServer::Start(io_, options, *routes_);
      if (!started) {
        options.listen = listening_on_;
        if (auto old = HttpServer::Start(io_, options, *routes_)) server_ = std::move(*old);
      }
    }
    if (!started) return started.error().Wrap("[http] listen");
    next = std::move(*started);
  }

  // From here on nothing fails: swap in the new settings.
  config_ = config;
  if (decoding_changed) {
    auto calibration =
        std::make_unique<const std::map<std::string, core::MetricSpec>>(config.metrics);
    auto decoder = std::make_unique<drivers::FrameDecoder>(HttpFrameSpec(), *calibration, clock_,
                                                           config.clock.trust_unsynced);
    if (!routes_) routes_ = std::make_unique<HttpRoutes>(HttpServices{});
    *routes_ = HttpRoutes(HttpServices{});  // drop the old decoder pointer before freeing it
    decoder_ = std::move(decoder);
    calibration_ = std::move(calibration);
  }
  if (!routes_) routes_ = std::make_unique<HttpRoutes>(HttpServices{});
  *routes_ = HttpRoutes(Services());

  if (wanted.empty()) {
    if (server_) {
      spdlog::info("http: stopped (listen = \"\")");
      Stop();
    }
    return core::Ok();
  }
  if (next) {
    if (server_) {
      spdlog::info("http: moving from {} to {}", listening_on_, wanted);
      server_->Stop();
    }
    server_ = std::move(next);
    listening_on_ = wanted;
    spdlog::info("http: listening on {} (port {}){}", wanted, server_->port(),
                 config.http.api_key.empty() ? "; no api key: POST endpoints answer 403" : "");
  }
  targets_.sink.SetConnected(kHttpInput, true);
  return core::Ok();
}

void RunHttp::Stop() {
  if (!server_) return;
  server_->Stop();
  server_.reset();
  listening_on_.clear();
  targets_.sink.SetConnected(kHttpInput, false);
}

std::uint16_t RunHttp::port() const { return server_ ? server_->port() : 0; }

std::string RunHttp::StatusJson() const {
  auto document = targets_.status.Document(*config_, targets_.local, targets_.sink);
  if (!document) return ErrorBody(document.error().message);
  return document->dump();
}

MetricsSnapshot RunHttp::Metrics() const {
  auto facts = CollectStoreFacts(targets_.local, clock_);
  if (!facts) {
    spdlog::warn("GET /metrics: {}", facts.error().message);
    facts = StatusFacts{};
    facts->clock_synced = clock_.IsSynchronized();
  }
  // Like the status document: a configured input that never connected is not connected.
  std::map<std::string, bool> connected;
  for (const auto& serial : config_->serial) connected[serial.name] = false;
  for (const auto& mqtt : config_->mqtt) connected[mqtt.name] = false;
  for (const auto& [name, up] : targets_.sink.connections()) connected[name] = up;
  return BuildMetricsSnapshot(*facts, connected, targets_.sync, clock_.NowUs());
}

void RunHttp::DispatchRun(const RunRequest& request,
                          std::function<void(core::Expected<std::string>)> done) const {
  auto [command, args] = RegistryCommand(request);
  targets_.commands.Dispatch(command, args,
                             [done = std::move(done)](core::Expected<nlohmann::json> outcome) {
                               if (!outcome) return done(outcome.error());
                               done(outcome->dump());
                             });
}

}  // namespace fieldsync::agent
