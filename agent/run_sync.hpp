#pragma once
// RunSync: the sync loop of `fieldsync run` (§5) and the condition-profile download (§4), as a
// ServiceComponent.
//
// Threads. Remote I/O must never stall the inputs: a cycle can wait op_timeout_s on a dead link,
// and the event loop acknowledges frames, answers HTTP and feeds the watchdog. So the cycles run
// on ONE dedicated thread with its own store handle: a second SQLite connection to the same WAL
// database (LocalStore::Open again). SQLite serialises the two writers (the loop's grouped
// commits, this thread's deletes of uploaded rows and bucket marks), both connections wait up to
// busy_timeout for the other's short transactions, and WAL lets either read while the other
// writes. Nothing else is shared: the thread talks to the loop only by posting to the
// io_context (new metric specs for the aggregation, last_sync for status) and is told things
// through a mutex-guarded mailbox (settings, wake-up, run requests, stop).
//
// The loop (SyncSchedule decides when): a cycle every [sync] interval_s, at once again while
// more_pending, early when the inputs committed a batch's worth of readings since the last cycle
// (NoteCommitted), capped full-jitter backoff after kRetry and after kError (the data stays;
// last_sync.error says why). Each cycle that moved anything logs inserted/skipped. Passwords
// never reach a log line: the Uploader's and PgConnection's messages never carry the URL.
//
// Profiles: while [aggregate] profiles_query is set, every profiles_refresh_s (the first time at
// once) the thread runs it on the remote, merges the rows (sync/profile_merge.hpp), saves them in
// the store (store/profile_cache.hpp) and posts the specs merged with the config to the
// aggregation. At Apply (start and reload), the cached profiles are merged with the new config at
// once, so an offline restart aggregates with the last fetched profiles from its first reading.
//
// Run requests ("sync", from the control socket or POST /api/run; run_sync_request.hpp): a dry
// run is answered at once from the loop's store (what is pending). Otherwise the request goes
// into the mailbox and the thread runs a cycle at once, even while backing off (someone asked,
// and the answer must say how the remote is now), with the loop's own uploader: the cycle is an
// ordinary one (logged, recorded in the schedule and last_sync). `once` is answered after that
// cycle; otherwise cycles follow until one leaves nothing pending, one fails, or as many ran as
// there were batches pending at the request plus one (inputs that keep the outbox full cannot
// hold the answer forever). Requests that arrive during a cycle get the next one. The answer,
// SyncTotals of those cycles with the last outcome, is posted to the event loop. Without a
// remote the request is refused with kInvalidArgument (kNoRemoteMessage); requests still waiting
// when the loop stops are answered kUnavailable (Stop) or kInvalidArgument (reload without url).
//
// Life cycle: Apply with [sync] url "" stops the thread (no remote activity at all); with a url
// it starts the thread or hands it the new settings, which it takes before its next cycle (a
// changed url, schema or timeout reconnects). Stop interrupts a backoff or interval sleep at once;
// a remote operation in flight ends within op_timeout_s; then the thread is joined.
//
// Thread-safety: Apply, PauseIntake, Stop, the constructor and the run-request handler on the
// event loop thread; NoteCommitted and last_sync from any thread.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/config.hpp"
#include "agent/control_commands.hpp"
#include "agent/local_store.hpp"
#include "agent/run_component.hpp"
#include "agent/run_sync_request.hpp"
#include "core/clock.hpp"
#include "core/metric_spec.hpp"
#include "sync/sync_schedule.hpp"

namespace fieldsync::agent {

// Runs on the event loop thread after every cycle (e.g. RunStatus::SetLastSync).
using LastSyncListener = std::function<void(const sync::LastSync&)>;

class RunSync final : public ServiceComponent {
 public:
  // `local` is the loop's own store: its aggregation receives the merged metric specs, and its
  // database is read for cached profiles at Apply. `io`, `clock` and `local` outlive this.
  RunSync(boost::asio::io_context& io, core::Clock& clock, LocalStore& local,
          LastSyncListener on_last_sync = {});
  ~RunSync() override;
  RunSync(const RunSync&) = delete;
  RunSync& operator=(const RunSync&) = delete;

  std::string_view kind() const override { return "sync"; }
  core::Status Apply(const Config& config) override;
  void PauseIntake() override {}
  void Stop() override;

  // The grouped commit stored `readings` new readings. Cheap (one atomic add); wakes the loop
  // when a batch's worth has accumulated since the last cycle.
  void NoteCommitted(std::int64_t readings);

  // The last cycle's outcome; nullopt before the first cycle (or without a remote).
  std::optional<sync::LastSync> last_sync() const;
  bool running() const { return worker_.joinable(); }

  // The handler of the "sync" run request, for RunCommandRegistry::Register. It borrows this
  // object: unregister it (or drop the registry) before destroying this.
  RunCommandHandler RunRequestHandler();

  struct Settings;  // what the thread needs from a Config (run_sync.cpp)

 private:
  // One "sync" run request waiting for its cycles.
  struct SyncWaiter {
    std::int64_t max_cycles = 1;
    bool one_batch = false;  // --once: its cycle sends at most one batch
    SyncTotals totals;
    RunCommandDone done;  // called on the event loop thread only
  };

  void Run(std::shared_ptr<const Settings> first);
  void StopWorker();
  void HandleRunRequest(const nlohmann::json& args, RunCommandDone done);
  // Answers every request still waiting (after StopWorker) with `error`, on the loop thread.
  void FailWaiting(const core::Error& error);
  // From the worker: posts each answer to the event loop.
  void Answer(std::vector<SyncWaiter> finished);
  void Answer(std::vector<SyncWaiter> finished, const core::Error& error);
  void PublishSpecs(std::uint64_t generation, std::map<std::string, core::MetricSpec> specs);

  boost::asio::io_context& io_;
  core::Clock& clock_;
  LocalStore& local_;
  LastSyncListener on_last_sync_;
  std::uint64_t applied_generation_ = 0;     // loop thread only
  std::shared_ptr<const Settings> applied_;  // loop thread only: the last Apply's
  std::thread worker_;

  // Mailbox between the loop and the worker.
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ = false;
  bool wake_ = false;
  std::shared_ptr<const Settings> next_settings_;  // taken by the worker before its next cycle
  std::vector<SyncWaiter> requested_;              // run requests for the next cycle
  std::optional<sync::LastSync> last_sync_;

  std::atomic<std::int64_t> committed_since_cycle_{0};
  std::atomic<std::int64_t> wake_threshold_{5000};
};

}  // namespace fieldsync::agent
