#include "agent/control_service.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace fieldsync::agent {

ControlService::ControlService(boost::asio::io_context& io, core::Clock& clock,
                               ControlTargets targets, ControlServerOptions options)
    : io_(io), clock_(clock), targets_(targets), options_(options) {}

ControlService::~ControlService() { Stop(); }

core::Status ControlService::Apply(const Config& config) {
  config_ = config;
  if (server_) return core::Ok();
  ControlHandlers handlers;
  handlers.status = [this]() -> core::Expected<nlohmann::json> {
    return targets_.status.Document(*config_, targets_.local, targets_.sink);
  };
  handlers.ingest =
      [this](const IngestRequest& request) -> core::Expected<std::unique_ptr<ControlIngest>> {
    return std::make_unique<ControlIngest>(*config_, request, clock_, targets_.sink,
                                           targets_.ingest_counts);
  };
  handlers.commands = &targets_.commands;
  std::string path = config.state_dir + "/" + kControlSocketName;
  auto server = ControlServer::Start(io_, path, std::move(handlers), options_);
  if (!server) return server.error();
  server_ = std::move(*server);
  spdlog::info("control socket: listening on {}", path);
  return core::Ok();
}

void ControlService::PauseIntake() {
  if (server_) server_->PauseIntake();
}

void ControlService::Stop() {
  if (server_) server_->Stop();
}

}  // namespace fieldsync::agent
