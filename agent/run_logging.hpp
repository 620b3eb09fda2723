#pragma once
// Logging of `fieldsync run` (§7: logs go to stderr, the journal under systemd): spdlog's
// default logger writes to stderr at [log] level, as text or, with [log] format = "json", as one
// JSON object per line: {"ts": RFC 3339 UTC, "level": "...", "msg": "..."}.
// Call from the main thread before the event loop starts, or on the loop (reload).

#include <memory>

#include <spdlog/formatter.h>

#include "agent/config.hpp"
#include "core/expected.hpp"

namespace fieldsync::agent {

// kInvalidArgument for an unknown level name (the config loader normally catches it first).
core::Status ConfigureRunLogging(const LogOptions& options);

// The json line formatter, exposed for tests.
std::unique_ptr<spdlog::formatter> MakeJsonLineFormatter();

}  // namespace fieldsync::agent
