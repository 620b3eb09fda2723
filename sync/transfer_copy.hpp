#pragma once
// Streams one table from the source to the target: COPY (SELECT ...) TO STDOUT on the source,
// each row straight into COPY ... FROM STDIN of a TEMP staging table on the target, and every
// `batch_size` rows one INSERT ... SELECT ... ON CONFLICT from the stage, committed on its own.
// Memory stays one send buffer (about 256 KiB) whatever the table's size: no batch is held.
//
// REQUIRES: the source is inside its read-only snapshot transaction with the range and filter
// settings of transfer_plan.hpp set; the target is outside any transaction. On error the
// target's open batch is rolled back (earlier batches stay committed) and the source must be
// closed (its COPY was abandoned).

#include <cstdint>
#include <functional>
#include <string>

#include "core/expected.hpp"
#include "sync/pg_connection.hpp"
#include "sync/transfer_plan.hpp"
#include "sync/transfer_progress.hpp"

namespace fieldsync::sync {

struct TableCounts {
  std::string table;
  std::int64_t fetched = 0;   // rows read from the source
  std::int64_t inserted = 0;  // new in the target
  std::int64_t updated = 0;   // existing target rows that differed and were changed (update mode)
  std::int64_t skipped = 0;   // already in the target (and, in update mode, identical)
};

// Monotonic seconds, for progress; injectable so tests need not sleep.
using SecondsClock = std::function<double()>;

core::Expected<TableCounts> CopyTable(PgConnection& source, PgConnection& target,
                                      const TablePlan& plan, std::int64_t batch_size,
                                      TransferProgress& progress, const SecondsClock& now);

// Dry run: the number of rows the source would send, nothing written anywhere.
core::Expected<TableCounts> CountTable(PgConnection& source, const TablePlan& plan);

}  // namespace fieldsync::sync
