#pragma once
// RunService: `fieldsync run` (§7), the long-running agent.
//
// One Boost.Asio io_context on the calling thread does everything: serial reads and ACK
// writes, grouped commits (timers), signals, the systemd watchdog. No other thread is started
// here: SQLite commits are short (grouped, one transaction per input per interval) and run on
// the loop, which keeps the store single-threaded as store.hpp requires.
//
// Life cycle of Run():
//   1. load the config (error: exit 2), configure logging;
//   2. take <state_dir>/lock (held by another process: exit 1 naming it), open the store
//      (error: exit 1);
//   3. Apply the config to every ServiceComponent (serial inputs; MQTT, HTTP and the sync loop
//      join the same list), sd_notify READY=1, WATCHDOG=1 every half WATCHDOG_USEC;
//   4. SIGHUP: reload the config; a config that fails to load or apply is logged and the old
//      one stays in force. Queued frames are committed first; unchanged inputs keep running;
//      state_dir and [store] changes need a restart (logged);
//   5. SIGTERM/SIGINT: STOPPING=1, inputs stop taking frames, everything queued is committed
//      (and acknowledged), inputs close, exit 0. All of it runs synchronously in the signal's
//      handler; its only unbounded-looking step, FlushAll, gives up after max_attempts commits.

#include <functional>

#include "agent/config.hpp"
#include "core/expected.hpp"

namespace fieldsync::agent {

// Loads the configuration (at start and on SIGHUP).
using ConfigLoader = std::function<core::Expected<Config>()>;

// Runs the service until a stop signal; returns the process exit status (kExitOk, kExitFailure,
// kExitUsage).
int RunService(const ConfigLoader& load_config);

}  // namespace fieldsync::agent
