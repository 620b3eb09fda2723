#pragma once
// `fieldsync transfer`: copies a date range of the fieldsync tables (or one named table) from a
// source PostgreSQL to a target. The source is only ever read: its session is read-only by
// default and everything is read in one REPEATABLE READ READ ONLY transaction, so all tables
// come from one consistent snapshot. The target gets rows through a staging table, one committed
// INSERT ... ON CONFLICT per batch; existing rows are never overwritten except by
// --on-conflict update (generic mode) or the devices/metrics upsert (--devices).
//
// Every check that needs no write (options, connections, tables, columns, devices missing from
// the target) runs before the first write. Not thread-safe; runs on the calling thread.

#include <string>
#include <vector>

#include "core/expected.hpp"
#include "sync/transfer_copy.hpp"
#include "sync/transfer_options.hpp"
#include "sync/transfer_progress.hpp"

namespace fieldsync::sync {

struct TransferReport {
  bool dry_run = false;
  std::string range;  // "2024-03-31 00:00 .. 2024-04-01 00:00 Europe/Berlin = [...Z, ...Z)", or ""
  std::vector<TableCounts> tables;  // in copy order; dry run: only `fetched` (would be read)
};

// Warnings about the options themselves (a URL carrying a password), one sentence each.
std::vector<std::string> TransferWarnings(const TransferOptions& options);

// Runs the transfer. Errors: kInvalidArgument for a usage error found only by the server (an
// unknown --timezone) or a column mismatch; kNotFound for a missing table; kConflict when
// devices are missing from the target; connection errors name the side ("source: ...",
// "target: ...") and never the password.
core::Expected<TransferReport> RunTransfer(const TransferOptions& options,
                                           TransferProgress& progress, const SecondsClock& now);

// The result table printed on stdout: one line per table with fetched, inserted, skipped
// (and updated when any row was).
std::string RenderTransferReport(const TransferReport& report);

// As many `items` as fit in `width` characters joined by ", ", then " and N more".
std::string ListThatFits(const std::vector<std::string>& items, size_t width);

}  // namespace fieldsync::sync
