// `fieldsync sync [--once] [--dry-run]`: upload changed aggregates, then pending readings, until
// nothing is pending (or one cycle with --once). Transient failures back off and retry a few
// times; anything else stops with the reason.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <thread>

#include "agent/cli.hpp"
#include "agent/command.hpp"
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

struct SyncFlags {
  bool once = false;
  bool dry_run = false;
};

int Fail(const std::string& message, int code = kExitFailure) {
  std::cerr << "fieldsync: " << message << "\n";
  return code;
}

int DryRun(const Config& config, store::Store& store, store::AggregateStore& aggregates) {
  auto stats = store.Stats();
  if (!stats) return Fail(stats.error().message);
  auto buckets = aggregates.PendingCount();
  if (!buckets) return Fail(buckets.error().message);
  const std::int64_t batch = config.sync.batch_size > 0 ? config.sync.batch_size : 1;
  std::cout << "would upload " << *buckets << " changed aggregate bucket(s), then "
            << stats->pending_readings << " pending reading(s) in "
            << (stats->pending_readings + batch - 1) / batch << " batch(es) of up to " << batch
            << " to schema " << config.sync.schema << " as gateway " << config.gateway << "\n";
  return kExitOk;
}

int Sync(CommandContext& context, const SyncFlags& flags) {
  auto config = context.LoadConfig();
  if (!config) return Fail(config.error().message, kExitUsage);
  if (config->sync.url.empty()) {
    return Fail("no remote configured: set [sync] url, url_file or FIELDSYNC_PG_URL", kExitUsage);
  }
  std::error_code ec;
  std::filesystem::create_directories(config->state_dir, ec);
  if (ec) return Fail("cannot create state_dir " + config->state_dir + ": " + ec.message());
  auto lock = store::StateLock::Acquire(config->state_dir);
  if (!lock) return Fail("cannot sync: " + lock.error().message);
  core::SystemClock clock;
  auto store = store::Store::Open(config->state_dir, config->store, clock);
  if (!store) return Fail("cannot open the store: " + store.error().message);
  auto aggregates =
      store::AggregateStore::Open((*store)->database(), config->aggregate, config->metrics);
  if (!aggregates) return Fail(aggregates.error().message, kExitUsage);
  if (flags.dry_run) return DryRun(*config, **store, *aggregates);

  sync::StoreReadingOutbox readings(**store);
  sync::AggregateBucketOutbox buckets(*aggregates);
  sync::UploaderOptions options;
  options.url = config->sync.url;
  options.schema = config->sync.schema;
  options.gateway = config->gateway;
  options.instance_id = (*store)->instance_id();
  options.version = FIELDSYNC_VERSION;
  options.batch_size =
      static_cast<std::size_t>(config->sync.batch_size > 0 ? config->sync.batch_size : 1);
  options.op_timeout_s = config->sync.op_timeout_s;
  options.metrics = config->metrics;
  sync::Uploader uploader(std::move(options), readings, &buckets, clock);
  sync::Backoff backoff(1000, config->sync.max_backoff_s,
                        sync::SeededUniform(std::random_device{}()));

  sync::CycleReport total;
  while (true) {
    const sync::CycleReport r = uploader.RunCycle();
    total.inserted += r.inserted;
    total.skipped += r.skipped;
    total.quarantined += r.quarantined;
    total.hourly += r.hourly;
    total.daily += r.daily;
    if (r.batch_rows > 0 || r.hourly > 0 || r.daily > 0) {
      std::cerr << "fieldsync: batch of " << r.batch_rows << ": inserted " << r.inserted
                << ", skipped " << r.skipped << ", quarantined " << r.quarantined << "; buckets "
                << r.hourly << " hourly, " << r.daily << " daily\n";
    }
    if (r.outcome == sync::UploadOutcome::kError) {
      total.outcome = r.outcome;
      total.message = r.message;
      break;
    }
    if (r.outcome == sync::UploadOutcome::kRetry) {
      if (flags.once || backoff.failures() >= kMaxConsecutiveRetries) {
        total.outcome = r.outcome;
        total.message = r.message;
        break;
      }
      const std::int64_t delay_ms = backoff.NextDelayMs();
      std::cerr << "fieldsync: " << r.message << "; retrying in " << delay_ms << " ms\n";
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      continue;
    }
    backoff.Reset();
    if (flags.once || !r.more_pending) break;
  }
  std::cout << "inserted " << total.inserted << ", skipped " << total.skipped << ", quarantined "
            << total.quarantined << ", hourly buckets " << total.hourly << ", daily buckets "
            << total.daily << "\n";
  if (total.outcome != sync::UploadOutcome::kOk) return Fail(total.message);
  return kExitOk;
}

}  // namespace

void RegisterSyncCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<SyncFlags>();
  auto* sync = app.add_subcommand("sync", "upload changed aggregates, then pending readings");
  sync->add_flag("--once", flags->once, "a single cycle: aggregates and at most one batch");
  sync->add_flag("--dry-run", flags->dry_run, "say what would be uploaded, send nothing");
  sync->callback([&context, flags] { context.exit_code = Sync(context, *flags); });
}

}  // namespace fieldsync::agent
