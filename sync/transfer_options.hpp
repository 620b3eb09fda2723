#pragma once
// What `fieldsync transfer` is asked to do, as plain values, and the checks that need no
// database. Two modes: the fieldsync tables of §5 for a date range (table empty), or one named
// table (generic mode, `table` = "schema.name").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace fieldsync::sync {

// How a row whose key already exists in the target is treated.
enum class ConflictAction {
  kSkip,    // ON CONFLICT DO NOTHING: the target's row stays as it is
  kUpdate,  // ON CONFLICT DO UPDATE, only when some column differs
};

// `--filter COL=VALUE`: the source rows whose COL equals VALUE (compared in COL's own type).
struct ColumnFilter {
  std::string column;
  std::string value;
};

struct TransferOptions {
  std::string source_url;  // libpq URL or key=value; only ever read
  std::string target_url;
  // Inclusive range of days since 1970-01-01 (core::ParseIsoDate). Both or neither; required in
  // fieldsync mode and with a time column.
  std::optional<std::int64_t> start_day;
  std::optional<std::int64_t> end_day;
  std::string timezone = "UTC";  // IANA name: the days are whole days on this zone's clock
  std::string schema = "fieldsync";
  bool devices = false;  // fieldsync mode: also upsert devices and metrics
  std::int64_t batch_size = 50'000;
  bool dry_run = false;
  std::int64_t op_timeout_s = 600;  // deadline of each database operation (one batch INSERT...)

  // Generic mode.
  std::string table;        // "schema.name"; empty selects fieldsync mode
  std::string time_column;  // empty: no date range (the dates must then be absent)
  std::vector<ColumnFilter> filters;
  ConflictAction on_conflict = ConflictAction::kSkip;
};

// A table name split and checked: each part passes core::IsValidSqlIdentifier.
struct QualifiedName {
  std::string schema;
  std::string name;
};

// "schema.name" -> its parts; kInvalidArgument naming the text otherwise.
core::Expected<QualifiedName> ParseQualifiedName(std::string_view text);

// "COL=VALUE" -> a filter (the value may contain '='; it may be empty); kInvalidArgument for a
// missing '=' or an invalid column name.
core::Expected<ColumnFilter> ParseColumnFilter(std::string_view text);

// "skip" or "update".
core::Expected<ConflictAction> ParseConflictAction(std::string_view text);

// Every check that needs no database: URLs present, dates present where needed and in order,
// batch size positive, identifiers valid, options of one mode not used in the other.
// kInvalidArgument (a usage error, exit 2) with a message naming the offending option.
core::Status ValidateTransferOptions(const TransferOptions& options);

}  // namespace fieldsync::sync
