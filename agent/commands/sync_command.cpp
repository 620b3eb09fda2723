// `fieldsync sync [--once] [--dry-run]`: upload changed aggregates, then pending readings, until
// nothing is pending (or one cycle with --once). Transient failures back off and retry a few
// times; anything else stops with the reason. While `fieldsync run` holds the store, the request
// goes to the agent's control socket and its sync loop does the work; the output is the same.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <thread>

#include "agent/cli.hpp"
#include "agent/command.hpp"
#include "agent/control_client.hpp"
#include "agent/control_protocol.hpp"
#include "agent/local_store.hpp"
#include "agent/run_sync_request.hpp"
#include "core/clock.hpp"
#include "store/aggregate_store.hpp"
#include "store/state_lock.hpp"
#include "store/store.hpp"
#include "sync/backoff.hpp"
#include "sync/store_outbox.hpp"
#include "sync/uploader.hpp"

namespace fieldsync::agent {
namespace {

// A command gives up after this many consecutive transient failures (the service never does).
constexpr int kMaxConsecutiveRetries = 5;

// A forwarded sync without --once drains the whole backlog, which may take a while on a slow
// link; each of its remote operations has its own deadline (op_timeout_s) in the agent.
constexpr std::chrono::minutes kForwardTimeout{30};

int Fail(const std::string& message, int code = kExitFailure) {
  std::cerr << "fieldsync: " << message << "\n";
  return code;
}

int PrintTotals(const SyncTotals& totals) {
  std::cout << RenderSyncTotals(totals);
  if (!totals.ok()) return Fail(totals.message);
  return kExitOk;
}

int DryRun(const Config& config, store::Store& store, store::AggregateStore& aggregates) {
  auto stats = store.Stats();
  if (!stats) return Fail(stats.error().message);
  auto buckets = aggregates.PendingCount();
  if (!buckets) return Fail(buckets.error().message);
  SyncPreview preview;
  preview.pending_buckets = *buckets;
  preview.pending_readings = stats->pending_readings;
  preview.batch_size = config.sync.batch_size > 0 ? config.sync.batch_size : 1;
  preview.schema = config.sync.schema;
  preview.gateway = config.gateway;
  std::cout << RenderSyncPreview(preview);
  return kExitOk;
}

// The lock is held by another process, normally `fieldsync run`: its sync loop does the work.
int ForwardToAgent(const Config& config, const SyncRequest& flags, const core::Error& busy) {
  auto answer = CallAgent(ControlSocketPath(config.state_dir),
                          ControlRequest{RunRequestLine{"sync", ToJson(flags)}}, kForwardTimeout);
  if (!answer && answer.error().code == core::Errc::kUnavailable) {
    return Fail("cannot sync: " + busy.message +
                ", and no running agent answers on its control socket (" + answer.error().message +
                "); stop that process or retry when it has ended");
  }
  if (!answer && answer.error().code == core::Errc::kUnsupported) {
    return Fail(
        "cannot sync: " + busy.message +
        " (the running agent), which does not carry out sync requests: " + answer.error().message);
  }
  if (!answer) {
    return Fail("sync (by the running agent): " + answer.error().message,
                answer.error().code == core::Errc::kInvalidArgument ? kExitUsage : kExitFailure);
  }
  if (flags.dry_run) {
    auto preview = SyncPreviewFromJson(*answer);
    if (!preview) return Fail(preview.error().message);
    std::cout << RenderSyncPreview(*preview);
    return kExitOk;
  }
  auto totals = SyncTotalsFromJson(*answer);
  if (!totals) return Fail(totals.error().message);
  return PrintTotals(*totals);
}

int Sync(CommandContext& context, const SyncRequest& flags) {
  auto config = context.LoadConfig();
  if (!config) return Fail(config.error().message, kExitUsage);
  if (config->sync.url.empty()) return Fail(kNoRemoteMessage, kExitUsage);
  std::error_code ec;
  std::filesystem::create_directories(config->state_dir, ec);
  if (ec) return Fail("cannot create state_dir " + config->state_dir + ": " + ec.message());
  auto lock = store::StateLock::Acquire(config->state_dir);
  if (!lock && lock.error().code == core::Errc::kBusy) {
    return ForwardToAgent(*config, flags, lock.error());
  }
  if (!lock) return Fail("cannot sync: " + lock.error().message);
  core::SystemClock clock;
  Config store_config = *config;
  store_config.store.cache_kib = sync::kUploaderStoreCacheKib;
  // With its aggregates as the store's observer: readings are folded into their buckets before
  // the buckets are uploaded and before uploaded readings are deleted.
  auto local = LocalStore::Open(store_config, clock);
  if (!local) {
    return Fail("cannot open the store: " + local.error().message,
                local.error().code == core::Errc::kInvalidArgument ? kExitUsage : kExitFailure);
  }
  store::Store& store = (*local)->store();
  store::AggregateStore& aggregates = (*local)->aggregates();
  if (flags.dry_run) return DryRun(*config, store, aggregates);

  sync::StoreReadingOutbox readings(store);
  sync::AggregateBucketOutbox buckets(aggregates);
  sync::UploaderOptions options;
  options.url = config->sync.url;
  options.schema = config->sync.schema;
  options.gateway = config->gateway;
  options.instance_id = store.instance_id();
  options.version = FIELDSYNC_VERSION;
  options.batch_size =
      static_cast<std::size_t>(config->sync.batch_size > 0 ? config->sync.batch_size : 1);
  options.op_timeout_s = config->sync.op_timeout_s;
  options.metrics = config->metrics;
  sync::Uploader uploader(std::move(options), readings, &buckets, clock);
  sync::Backoff backoff(1000, config->sync.max_backoff_s,
                        sync::SeededUniform(std::random_device{}()));

  SyncTotals total;
  while (true) {
    const sync::CycleReport r =
        uploader.RunCycle(flags.once ? sync::CycleScope::kOneBatch : sync::CycleScope::kBacklog);
    total.Add(r);
    if (r.batch_rows > 0 || r.hourly > 0 || r.daily > 0) {
      std::cerr << "fieldsync: sent " << r.batch_rows << " readings: inserted " << r.inserted
                << ", skipped " << r.skipped << ", quarantined " << r.quarantined << "; buckets "
                << r.hourly << " hourly, " << r.daily << " daily\n";
    }
    if (r.outcome == sync::UploadOutcome::kError) break;
    if (r.outcome == sync::UploadOutcome::kRetry) {
      if (flags.once || backoff.failures() >= kMaxConsecutiveRetries) break;
      const std::int64_t delay_ms = backoff.NextDelayMs();
      std::cerr << "fieldsync: " << r.message << "; retrying in " << delay_ms << " ms\n";
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      continue;
    }
    backoff.Reset();
    if (flags.once || !r.more_pending) break;
  }
  return PrintTotals(total);
}

}  // namespace

void RegisterSyncCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<SyncRequest>();
  auto* sync = app.add_subcommand("sync", "upload changed aggregates, then pending readings");
  sync->add_flag("--once", flags->once, "a single cycle: aggregates and at most one batch");
  sync->add_flag("--dry-run", flags->dry_run, "say what would be uploaded, send nothing");
  sync->callback([&context, flags] { context.exit_code = Sync(context, *flags); });
}

}  // namespace fieldsync::agent
