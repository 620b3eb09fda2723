#include "agent/run_sync.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <iterator>
#include <random>

#include "store/profile_cache.hpp"
#include "sync/profile_fetch.hpp"
#include "sync/profile_merge.hpp"
#include "sync/store_outbox.hpp"
#include "sync/uploader.hpp"

namespace fieldsync::agent {

struct RunSync::Settings {
  Config config;
  std::uint64_t generation = 0;  // Apply's count, to drop specs computed from an older config
};

namespace {

// A failed profile download is tried again after this long (or profiles_refresh_s if shorter).
constexpr core::TimeUs kProfileRetryUs = 60 * core::kMicrosPerSecond;

// What one worker needs open at once; destroyed in reverse order (uploader first).
struct SyncSession {
  std::unique_ptr<LocalStore> local;
  std::unique_ptr<sync::StoreReadingOutbox> readings;
  std::unique_ptr<sync::AggregateBucketOutbox> buckets;
  std::unique_ptr<sync::Uploader> uploader;
};

std::map<std::string, core::ConditionProfile> LoadCachedProfiles(store::Database& db) {
  auto cache = store::ProfileCache::Open(db);
  if (!cache) {
    spdlog::warn("profiles: cannot open the local profile cache: {}", cache.error().message);
    return {};
  }
  auto loaded = cache->Load();
  if (!loaded) {
    spdlog::warn("profiles: cannot read the local profile cache: {}", loaded.error().message);
    return {};
  }
  return std::move(*loaded);
}

void LogCycle(const sync::CycleReport& r) {
  if (r.batch_rows > 0 || r.hourly > 0 || r.daily > 0 || r.quarantined > 0) {
    spdlog::info(
        "sync: sent {} readings: inserted {}, skipped {}, quarantined {}; buckets {} hourly, {} "
        "daily",
        r.batch_rows, r.inserted, r.skipped, r.quarantined, r.hourly, r.daily);
  }
  if (r.outcome == sync::UploadOutcome::kRetry) {
    spdlog::warn("sync: {} (will retry)", r.message);
  } else if (r.outcome == sync::UploadOutcome::kError) {
    spdlog::error("sync: {} (data kept; will retry)", r.message);
  }
}

}  // namespace

RunSync::RunSync(boost::asio::io_context& io, core::Clock& clock, LocalStore& local,
                 LastSyncListener on_last_sync)
    : io_(io), clock_(clock), local_(local), on_last_sync_(std::move(on_last_sync)) {}

// Requests still waiting are dropped unanswered: at destruction the event loop that would carry
// the answers is gone or about to be (Stop answers them while it still runs).
RunSync::~RunSync() { StopWorker(); }

core::Status RunSync::Apply(const Config& config) {
  auto settings = std::make_shared<Settings>();
  settings->config = config;
  settings->generation = ++applied_generation_;
  applied_ = settings;
  // The aggregation takes the new config at once, with the last fetched profiles if any.
  std::map<std::string, core::ConditionProfile> cached;
  if (!config.aggregate.profiles_query.empty()) {
    cached = LoadCachedProfiles(local_.store().database());
  }
  local_.aggregates().SetMetricSpecs(sync::MergeMetricSpecs(config.metrics, cached));

  if (config.sync.url.empty()) {
    if (running()) spdlog::info("sync: no remote configured, the sync loop stops");
    StopWorker();
    FailWaiting(core::MakeError(core::Errc::kInvalidArgument, kNoRemoteMessage));
    return core::Ok();
  }
  wake_threshold_.store(std::max<std::int64_t>(1, config.sync.batch_size));
  if (running()) {
    std::lock_guard<std::mutex> lock(mutex_);
    next_settings_ = std::move(settings);
    changed_.notify_one();
    return core::Ok();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = false;
    wake_ = false;
    next_settings_.reset();
  }
  worker_ = std::thread([this, settings] { Run(settings); });
  return core::Ok();
}

void RunSync::Stop() {
  StopWorker();
  FailWaiting(core::MakeError(core::Errc::kUnavailable, "the agent stopped before the sync ended"));
}

RunCommandHandler RunSync::RunRequestHandler() {
  return [this](const nlohmann::json& args, RunCommandDone done) {
    HandleRunRequest(args, std::move(done));
  };
}

void RunSync::HandleRunRequest(const nlohmann::json& args, RunCommandDone done) {
  auto request = SyncRequestFromJson(args);
  if (!request) return done(request.error());
  if (!applied_ || applied_->config.sync.url.empty()) {
    return done(core::MakeError(core::Errc::kInvalidArgument, kNoRemoteMessage));
  }
  if (!running()) {
    return done(core::MakeError(core::Errc::kUnavailable, "the sync loop is not running"));
  }
  const Config& config = applied_->config;
  auto stats = local_.store().Stats();
  if (!stats) return done(stats.error().Wrap("cannot count the pending readings"));
  auto buckets = local_.aggregates().PendingCount();
  if (!buckets) return done(buckets.error().Wrap("cannot count the changed buckets"));
  SyncPreview preview;
  preview.pending_buckets = *buckets;
  preview.pending_readings = stats->pending_readings;
  preview.batch_size = std::max<std::int64_t>(1, config.sync.batch_size);
  preview.schema = config.sync.schema;
  preview.gateway = config.gateway;
  if (request->dry_run) return done(SyncPreviewToJson(preview));

  SyncWaiter waiter;
  // The batches pending now, plus the cycle that finds the outbox empty after a full batch.
  waiter.max_cycles = request->once ? 1 : preview.batches() + 1;
  waiter.one_batch = request->once;
  waiter.done = std::move(done);
  std::lock_guard<std::mutex> lock(mutex_);
  requested_.push_back(std::move(waiter));
  changed_.notify_one();
}

void RunSync::FailWaiting(const core::Error& error) {
  std::vector<SyncWaiter> waiting;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    waiting.swap(requested_);
  }
  for (SyncWaiter& waiter : waiting) waiter.done(error);
}

void RunSync::Answer(std::vector<SyncWaiter> finished) {
  for (SyncWaiter& waiter : finished) {
    boost::asio::post(io_, [done = std::move(waiter.done),
                            result = SyncTotalsToJson(waiter.totals)] { done(result); });
  }
}

void RunSync::Answer(std::vector<SyncWaiter> finished, const core::Error& error) {
  for (SyncWaiter& waiter : finished) {
    boost::asio::post(io_, [done = std::move(waiter.done), error] { done(error); });
  }
}

void RunSync::StopWorker() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    changed_.notify_one();
  }
  worker_.join();
}

void RunSync::NoteCommitted(std::int64_t readings) {
  if (readings <= 0) return;
  const std::int64_t before = committed_since_cycle_.fetch_add(readings);
  const std::int64_t threshold = wake_threshold_.load();
  if (before < threshold && before + readings >= threshold) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_ = true;
    changed_.notify_one();
  }
}

std::optional<sync::LastSync> RunSync::last_sync() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_sync_;
}

void RunSync::PublishSpecs(std::uint64_t generation,
                           std::map<std::string, core::MetricSpec> specs) {
  boost::asio::post(io_, [this, generation, specs = std::move(specs)]() mutable {
    // A reload since the download already applied a newer config: the worker gets it too and
    // publishes again after its next download.
    if (generation == applied_generation_) local_.aggregates().SetMetricSpecs(std::move(specs));
  });
}

void RunSync::Run(std::shared_ptr<const Settings> settings) {
  SyncSession session;
  std::optional<sync::SyncSchedule> schedule;
  std::map<std::string, core::ConditionProfile> fetched;
  core::TimeUs profiles_due = 0;  // boot time of the next download
  bool rebuild = true;
  std::string last_profiles_query;
  std::string open_error;               // why the store could not be opened for syncing
  std::vector<SyncWaiter> in_progress;  // run requests whose cycles have started

  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) break;
      if (next_settings_) {
        settings = std::move(next_settings_);
        next_settings_.reset();
        rebuild = true;
      }
    }
    const Config& config = settings->config;
    if (rebuild) {
      session.uploader.reset();  // new url, schema, batch size, metrics: a new connection
      schedule.emplace(config.sync.interval_s,
                       sync::Backoff(1000, config.sync.max_backoff_s,
                                     sync::SeededUniform(std::random_device{}())));
      if (config.aggregate.profiles_query != last_profiles_query) profiles_due = 0;
      last_profiles_query = config.aggregate.profiles_query;
      spdlog::info("sync: uploading to schema {} as gateway {} every {} s", config.sync.schema,
                   config.gateway, config.sync.interval_s);
      rebuild = false;
    }
    if (!session.local) {
      Config store_config = config;
      store_config.store.cache_kib = sync::kUploaderStoreCacheKib;
      auto opened = LocalStore::Open(store_config, clock_);
      if (opened) {
        session.local = std::move(*opened);
        open_error.clear();
        fetched = LoadCachedProfiles(session.local->store().database());
      } else {
        sync::CycleReport failed;
        failed.outcome = sync::UploadOutcome::kError;
        failed.message = "cannot open the store for syncing: " + opened.error().message;
        schedule->Record(failed, clock_.BootTimeUs(), clock_.NowUs());
        spdlog::error("sync: {}", failed.message);
        open_error = failed.message;
      }
    }
    const std::map<std::string, core::MetricSpec> specs =
        sync::MergeMetricSpecs(config.metrics, config.aggregate.profiles_query.empty()
                                                   ? std::map<std::string, core::ConditionProfile>{}
                                                   : fetched);
    if (session.local && !session.uploader) {
      session.readings = std::make_unique<sync::StoreReadingOutbox>(session.local->store());
      session.buckets = std::make_unique<sync::AggregateBucketOutbox>(session.local->aggregates());
      session.local->aggregates().SetMetricSpecs(specs);
      sync::UploaderOptions options;
      options.url = config.sync.url;
      options.schema = config.sync.schema;
      options.gateway = config.gateway;
      options.instance_id = session.local->store().instance_id();
      options.version = FIELDSYNC_VERSION;
      options.batch_size =
          static_cast<std::size_t>(std::max<std::int64_t>(1, config.sync.batch_size));
      options.op_timeout_s = config.sync.op_timeout_s;
      options.metrics = specs;
      session.uploader = std::make_unique<sync::Uploader>(std::move(options), *session.readings,
                                                          session.buckets.get(), clock_);
    }

    // Sleep until a cycle or a download is due, a run request arrives, or the loop is told
    // something. A run request needs no waiting, not even for a backoff: someone asked.
    const bool want_profiles = !config.aggregate.profiles_query.empty() && session.local;
    bool requested = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!stop_ && !next_settings_) {
        const core::TimeUs now = clock_.BootTimeUs();
        if (wake_) {
          wake_ = false;
          schedule->Wake(now);
        }
        requested = !requested_.empty() || !in_progress.empty();
        if (requested) break;
        core::TimeUs due = schedule->NextCycleAt();
        if (want_profiles) due = std::min(due, profiles_due);
        if (now >= due) break;
        changed_.wait_for(lock, std::chrono::microseconds(due - now));
      }
      if (stop_) break;
      if (next_settings_) continue;
    }

    if (want_profiles && clock_.BootTimeUs() >= profiles_due) {
      const core::TimeUs refresh_us = config.aggregate.profiles_refresh_s * core::kMicrosPerSecond;
      profiles_due = clock_.BootTimeUs() + std::min(refresh_us, kProfileRetryUs);
      auto conn = sync::PgConnection::Connect(config.sync.url, config.sync.op_timeout_s);
      auto rows = conn ? sync::FetchProfiles(**conn, config.aggregate.profiles_query)
                       : core::Expected<sync::FetchedProfiles>(conn.error());
      if (!rows) {
        spdlog::warn("profiles: download failed, keeping the last profiles: {}",
                     rows.error().message);
      } else {
        if (rows->rows_ignored > 0) {
          spdlog::warn("profiles: {} row(s) ignored ({})", rows->rows_ignored, rows->first_ignored);
        }
        fetched = sync::MergeFetchedProfiles(rows->rows);
        auto cache = store::ProfileCache::Open(session.local->store().database());
        core::Status saved = cache ? cache->Save(fetched, clock_.NowUs()) : cache.error();
        if (!saved) spdlog::warn("profiles: cannot keep them locally: {}", saved.error().message);
        spdlog::info("profiles: {} metric profile(s) downloaded", fetched.size());
        PublishSpecs(settings->generation, sync::MergeMetricSpecs(config.metrics, fetched));
        session.uploader.reset();  // the `metrics` rows carry the new profiles from now on
        profiles_due = clock_.BootTimeUs() + refresh_us;
      }
      continue;
    }
    if (!session.uploader) {
      if (requested) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          std::move(requested_.begin(), requested_.end(), std::back_inserter(in_progress));
          requested_.clear();
        }
        Answer(
            std::move(in_progress),
            core::MakeError(core::Errc::kIo,
                            open_error.empty() ? "cannot open the store for syncing" : open_error));
        in_progress.clear();
      }
      continue;
    }
    if (!requested && clock_.BootTimeUs() < schedule->NextCycleAt()) continue;
    {
      // Requests that arrive from now on wait for the next cycle: this one may have taken its
      // batch already.
      std::lock_guard<std::mutex> lock(mutex_);
      std::move(requested_.begin(), requested_.end(), std::back_inserter(in_progress));
      requested_.clear();
    }

    committed_since_cycle_.store(0);
    const bool one_batch = std::any_of(in_progress.begin(), in_progress.end(),
                                       [](const SyncWaiter& w) { return w.one_batch; });
    const sync::CycleReport report = session.uploader->RunCycle(
        one_batch ? sync::CycleScope::kOneBatch : sync::CycleScope::kBacklog);
    schedule->Record(report, clock_.BootTimeUs(), clock_.NowUs());
    LogCycle(report);
    sync::LastSync last = schedule->last_sync();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last_sync_ = last;
    }
    if (on_last_sync_) {
      boost::asio::post(io_, [this, last] { on_last_sync_(last); });
    }
    std::vector<SyncWaiter> finished;
    std::vector<SyncWaiter> continuing;
    for (SyncWaiter& waiter : in_progress) {
      waiter.totals.Add(report);
      const bool done =
          !waiter.totals.ok() || !report.more_pending || waiter.totals.cycles >= waiter.max_cycles;
      (done ? finished : continuing).push_back(std::move(waiter));
    }
    in_progress = std::move(continuing);
    Answer(std::move(finished));
  }
  // Requests not answered yet are answered by whoever stopped the loop (Stop, Apply).
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requested_.insert(requested_.begin(), std::make_move_iterator(in_progress.begin()),
                      std::make_move_iterator(in_progress.end()));
  }
  session.uploader.reset();
}

}  // namespace fieldsync::agent
