#pragma once
// Shared by the transfer integration tests: run a transfer through the library, fingerprint
// rows, and seed the fieldsync schema.

#include <sstream>
#include <string>

#include "core/time.hpp"
#include "sync/transfer.hpp"
#include "tests/sync/transfer/transfer_databases.hpp"

// CppUTest last: its leak checker redefines operator new.
#include <CppUTest/TestHarness.h>

namespace fieldsync::testing {

inline sync::TransferOptions OptionsFor(const TransferDatabases& dbs, const std::string& start,
                                        const std::string& end) {
  sync::TransferOptions o;
  o.source_url = dbs.source_url();
  o.target_url = dbs.target_url();
  if (!start.empty()) o.start_day = *core::ParseIsoDate(start);
  if (!end.empty()) o.end_day = *core::ParseIsoDate(end);
  o.op_timeout_s = 60;
  return o;
}

inline core::Expected<sync::TransferReport> Transfer(const sync::TransferOptions& options) {
  std::ostringstream progress_out;
  sync::TransferProgress progress(progress_out, false);
  return sync::RunTransfer(options, progress, [] { return 0.0; });
}

// The counts of `table` in the report; fails the test when it is not there.
inline sync::TableCounts CountsOf(const sync::TransferReport& report, const std::string& table) {
  for (const auto& t : report.tables) {
    if (t.table == table) return t;
  }
  FAIL(("no counts for " + table).c_str());
  return {};
}

// md5 over the sorted text form of the rows `from_where` selects ("fieldsync.readings x WHERE
// ..."): equal on both sides exactly when the row sets are equal, every value in its text form.
inline std::string Fingerprint(const std::string& from_where) {
  return "SELECT coalesce(md5(string_agg(x::text, E'\\n' ORDER BY x::text)), 'empty') || ':' || "
         "count(*) FROM " +
         from_where;
}

}  // namespace fieldsync::testing
