#pragma once
// The SQL of a transfer, built from checked names and the catalog's shapes. Pure: nothing here
// talks to a database, so every statement can be tested as text.
//
// Values never enter the SQL text. The range bounds and --filter values are set as
// transaction-local settings on the source (set_config with bound parameters) and read back
// with current_setting(), cast to the column's own type, because COPY (SELECT ...) takes no
// parameters. Identifiers are validated upstream and always double-quoted.

#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "sync/table_shape.hpp"
#include "sync/transfer_options.hpp"

namespace fieldsync::sync {

// Names of the source settings holding the range: start/end day as ISO dates (inclusive), and
// the instants where the first day starts and the day after the last one starts, in UTC.
inline constexpr const char* kStartDaySetting = "fieldsync.start_day";
inline constexpr const char* kEndDaySetting = "fieldsync.end_day";
inline constexpr const char* kRangeStartSetting = "fieldsync.range_start";
inline constexpr const char* kRangeEndSetting = "fieldsync.range_end";
// "fieldsync.filter_<index>" for the index-th --filter.
std::string FilterSetting(size_t index);

// One table to copy: which rows of the source, into which table, and what a conflict does.
struct TablePlan {
  std::string label;                 // in reports: "readings" or "schema.name"
  QualifiedName source;              // read as `src`
  QualifiedName target;              // written as `t`
  std::vector<std::string> columns;  // matched by name, in the target's order
  std::vector<std::string> key;      // the target's primary key: the conflict target
  ConflictAction on_conflict = ConflictAction::kSkip;
  std::string where = "true";  // condition over `src`, values by current_setting()
};

// "\"name\"" with embedded quotes doubled.
std::string QuoteIdentifier(std::string_view name);
std::string RenderQualifiedName(const QualifiedName& name);

// The condition selecting the range on `qualifier.column` of type `type`: inclusive days for
// `date`, [first day 00:00, day after the last 00:00) for timestamps (zone-aware instants for
// timestamptz, wall-clock for timestamp). kInvalidArgument for any other type.
core::Expected<std::string> RenderTimeCondition(std::string_view qualifier, std::string_view column,
                                                std::string_view type);

// `src."col" = CAST(current_setting('fieldsync.filter_<index>') AS <type>)`.
std::string RenderFilterCondition(size_t index, std::string_view column, std::string_view type);

// A plan from both shapes: columns matched by name (MatchColumns), the target's key, and the
// given condition over `src`. kInvalidArgument for kUpdate on a target without a primary key.
core::Expected<TablePlan> PlanTable(const TableShape& source, const TableShape& target,
                                    ConflictAction on_conflict, std::string where);

// The generic plan: columns matched by name, key from the target, range on the time column
// (if any) and the filters, each compared in its source column's type. Errors name the column.
core::Expected<TablePlan> PlanGenericTable(const TableShape& source, const TableShape& target,
                                           const TransferOptions& options);

// The fieldsync tables of §5 in the order they are copied (devices and metrics first, with
// --devices, so the readings find them), each with its range condition.
struct FieldsyncTable {
  std::string name;
  std::string condition;  // over `src`
  ConflictAction on_conflict;
};
std::vector<FieldsyncTable> FieldsyncTables(const std::string& quoted_schema, bool devices);

// Statements of one table's copy.
std::string RenderSourceSelect(const TablePlan& plan);  // SELECT cols FROM source src WHERE ...
std::string RenderCopyOut(const TablePlan& plan);       // COPY (SELECT ...) TO STDOUT
std::string RenderCount(const TablePlan& plan);         // SELECT count(*) ...
inline constexpr const char* kStageTable = "pg_temp.fieldsync_transfer_stage";
std::string RenderCreateStage(const TablePlan& plan);  // TEMP, LIKE target, ON COMMIT DELETE ROWS
std::string RenderStageCopyIn(const TablePlan& plan);  // COPY stage (cols) FROM STDIN
// INSERT ... SELECT from the stage ON CONFLICT, answering one row: (inserted, updated).
// kUpdate changes only rows where some non-key column IS DISTINCT FROM the incoming one.
std::string RenderMerge(const TablePlan& plan);

// A PostgreSQL text[] literal of `values` ("{\"a\",\"b\"}"), for a bound parameter.
std::string RenderTextArray(const std::vector<std::string>& values);

}  // namespace fieldsync::sync
