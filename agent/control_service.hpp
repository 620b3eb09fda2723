#pragma once
// ControlService: the control socket as a ServiceComponent of `fieldsync run`. The first Apply
// starts the server at <state_dir>/control.sock (the service holds the state lock by then);
// later Applys only update the configuration that status documents and new ingest streams use
// (state_dir changes take effect at the next start, like the store's). PauseIntake stops ingest
// streams from reading; Stop closes every connection and removes the socket file.
//
// Requests are answered from the running agent's parts: the live status from RunStatus and the
// store, ingest streams into the grouped-commit sink (input "ingest"), run requests from the
// RunCommandRegistry. Event loop thread only; every reference must outlive this object.

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>

#include "agent/config.hpp"
#include "agent/control_commands.hpp"
#include "agent/control_ingest.hpp"
#include "agent/control_server.hpp"
#include "agent/grouped_commit.hpp"
#include "agent/local_store.hpp"
#include "agent/run_component.hpp"
#include "agent/run_status.hpp"
#include "core/clock.hpp"

namespace fieldsync::agent {

// What the control socket works on: the running agent's parts.
struct ControlTargets {
  LocalStore& local;
  GroupedCommit& sink;
  RunStatus& status;
  const RunCommandRegistry& commands;
  const IngestCommitCounts& ingest_counts;
};

class ControlService final : public ServiceComponent {
 public:
  ControlService(boost::asio::io_context& io, core::Clock& clock, ControlTargets targets,
                 ControlServerOptions options = {});
  ~ControlService() override;

  std::string_view kind() const override { return "control"; }
  core::Status Apply(const Config& config) override;
  void PauseIntake() override;
  void Stop() override;

 private:
  boost::asio::io_context& io_;
  core::Clock& clock_;
  ControlTargets targets_;
  ControlServerOptions options_;
  std::optional<Config> config_;
  std::unique_ptr<ControlServer> server_;
};

}  // namespace fieldsync::agent
