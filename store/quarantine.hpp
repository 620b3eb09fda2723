#pragma once
// The local quarantine (§5 "Errors"): readings the remote refused for their data (SQLSTATE
// classes 22 and 23), moved out of the outbox so that the rest of a batch can land. They stay in
// the store, with the server's message, until a person retries them (back to pending, e.g. after
// fixing the remote schema) or purges them. The operations are Store members (store.hpp); this
// header holds their value types.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/reading.hpp"
#include "core/time.hpp"

namespace fieldsync::store {

// One row of the quarantine table.
struct QuarantinedReading {
  std::int64_t id = 0;  // the quarantine's own id, never reused; what retry and purge take
  core::Reading reading;
  core::TimeUs received_at = 0;
  std::string reason;    // the server's message, as the uploader reported it
  std::string sqlstate;  // e.g. "23514"; empty when the message carried none
  core::TimeUs quarantined_at = 0;
};

// Which quarantined rows a retry or purge applies to: every row, or exactly the listed ids.
struct QuarantineSelection {
  bool all = false;
  std::vector<std::int64_t> ids;  // ignored when `all`

  static QuarantineSelection All() { return QuarantineSelection{true, {}}; }
  static QuarantineSelection Ids(std::vector<std::int64_t> ids) {
    return QuarantineSelection{false, std::move(ids)};
  }
};

// What a retry or purge did (or, with dry_run, would do).
struct QuarantineChange {
  std::int64_t rows = 0;  // quarantine rows retried or purged
  // Retry only: rows whose key was already pending again (ingested anew meanwhile); they leave
  // the quarantine without adding a second pending reading.
  std::int64_t already_pending = 0;
  // Ids that name no quarantined row. When any is unknown nothing was changed (rows = 0), so
  // that a mistyped id never applies half a command.
  std::vector<std::int64_t> unknown_ids;
};

}  // namespace fieldsync::store
