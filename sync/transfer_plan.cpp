#include "sync/transfer_plan.hpp"

namespace fieldsync::sync {
namespace {

using core::Errc;
using core::MakeError;

std::string Setting(const std::string& name) { return "current_setting('" + name + "')"; }

std::string JoinColumns(const std::vector<std::string>& columns, std::string_view prefix) {
  std::string out;
  for (const auto& column : columns) {
    if (!out.empty()) out += ", ";
    out += std::string(prefix) + QuoteIdentifier(column);
  }
  return out;
}

}  // namespace

std::string FilterSetting(size_t index) { return "fieldsync.filter_" + std::to_string(index); }

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string RenderQualifiedName(const QualifiedName& name) {
  return QuoteIdentifier(name.schema) + "." + QuoteIdentifier(name.name);
}

core::Expected<std::string> RenderTimeCondition(std::string_view qualifier, std::string_view column,
                                                std::string_view type) {
  const std::string col = std::string(qualifier) + "." + QuoteIdentifier(column);
  if (type == "date") {
    return col + " >= CAST(" + Setting(kStartDaySetting) + " AS date) AND " + col + " <= CAST(" +
           Setting(kEndDaySetting) + " AS date)";
  }
  if (type == "timestamp with time zone") {
    return col + " >= CAST(" + Setting(kRangeStartSetting) + " AS timestamptz) AND " + col +
           " < CAST(" + Setting(kRangeEndSetting) + " AS timestamptz)";
  }
  if (type == "timestamp without time zone") {
    return col + " >= CAST(" + Setting(kStartDaySetting) + " AS date)::timestamp AND " + col +
           " < (CAST(" + Setting(kEndDaySetting) + " AS date) + 1)::timestamp";
  }
  return MakeError(Errc::kInvalidArgument,
                   "time column \"" + std::string(column) + "\" has type " + std::string(type) +
                       "; a date range needs timestamptz, timestamp or date");
}

std::string RenderFilterCondition(size_t index, std::string_view column, std::string_view type) {
  return "src." + QuoteIdentifier(column) + " = CAST(" + Setting(FilterSetting(index)) + " AS " +
         std::string(type) + ")";
}

core::Expected<TablePlan> PlanTable(const TableShape& source, const TableShape& target,
                                    ConflictAction on_conflict, std::string where) {
  auto columns = MatchColumns(source, target);
  if (!columns) return columns.error();
  TablePlan plan;
  plan.label = source.table.schema + "." + source.table.name;
  plan.source = source.table;
  plan.target = target.table;
  for (const auto& column : *columns) plan.columns.push_back(column.name);
  plan.key = target.primary_key;
  plan.on_conflict = on_conflict;
  plan.where = std::move(where);
  if (plan.on_conflict == ConflictAction::kUpdate && plan.key.empty()) {
    return MakeError(Errc::kInvalidArgument,
                     "updating on conflict needs a primary key on the "
                     "target's " +
                         plan.label + "; it has none");
  }
  return plan;
}

core::Expected<TablePlan> PlanGenericTable(const TableShape& source, const TableShape& target,
                                           const TransferOptions& options) {
  const std::string label = source.table.schema + "." + source.table.name;
  std::vector<std::string> conditions;
  if (!options.time_column.empty()) {
    const ColumnShape* time = FindColumn(source, options.time_column);
    if (time == nullptr) {
      return MakeError(Errc::kInvalidArgument,
                       "--time-column \"" + options.time_column + "\" is not a column of " + label);
    }
    auto condition = RenderTimeCondition("src", time->name, time->type);
    if (!condition) return condition.error();
    conditions.push_back(*condition);
  }
  for (size_t i = 0; i < options.filters.size(); ++i) {
    const ColumnShape* column = FindColumn(source, options.filters[i].column);
    if (column == nullptr) {
      return MakeError(Errc::kInvalidArgument, "--filter column \"" + options.filters[i].column +
                                                   "\" is not a column of " + label);
    }
    conditions.push_back(RenderFilterCondition(i, column->name, column->type));
  }
  std::string where;
  for (const auto& condition : conditions) {
    if (!where.empty()) where += " AND ";
    where += "(" + condition + ")";
  }
  return PlanTable(source, target, options.on_conflict, where.empty() ? "true" : where);
}

std::vector<FieldsyncTable> FieldsyncTables(const std::string& quoted_schema, bool devices) {
  // The range conditions cannot fail for these fixed types.
  const std::string ts = *RenderTimeCondition("src", "ts", "timestamp with time zone");
  const std::string bucket = *RenderTimeCondition("src", "bucket", "timestamp with time zone");
  const std::string day = *RenderTimeCondition("src", "day", "date");
  std::vector<FieldsyncTable> tables;
  if (devices) {
    // The devices and metrics the range speaks of, in any of the three tables.
    auto used = [&](const std::string& key) {
      std::string out;
      const std::pair<const char*, std::string> ranged[] = {
          {"readings", *RenderTimeCondition("r", "ts", "timestamp with time zone")},
          {"hourly", *RenderTimeCondition("r", "bucket", "timestamp with time zone")},
          {"daily", *RenderTimeCondition("r", "day", "date")}};
      for (const auto& [table, condition] : ranged) {
        if (!out.empty()) out += " OR ";
        out += "EXISTS (SELECT 1 FROM " + quoted_schema + "." + table +
               " r WHERE r.gateway = src.gateway AND r." + key + " = src." + key + " AND " +
               condition + ")";
      }
      return out;
    };
    tables.push_back({"devices", used("device"), ConflictAction::kUpdate});
    tables.push_back({"metrics", used("metric"), ConflictAction::kUpdate});
  }
  tables.push_back({"readings", ts, ConflictAction::kSkip});
  tables.push_back({"hourly", bucket, ConflictAction::kSkip});
  tables.push_back({"daily", day, ConflictAction::kSkip});
  return tables;
}

std::string RenderSourceSelect(const TablePlan& plan) {
  return "SELECT " + JoinColumns(plan.columns, "src.") + " FROM " +
         RenderQualifiedName(plan.source) + " src WHERE " + plan.where;
}

std::string RenderCopyOut(const TablePlan& plan) {
  return "COPY (" + RenderSourceSelect(plan) + ") TO STDOUT";
}

std::string RenderCount(const TablePlan& plan) {
  return "SELECT count(*) FROM " + RenderQualifiedName(plan.source) + " src WHERE " + plan.where;
}

std::string RenderCreateStage(const TablePlan& plan) {
  return std::string("DROP TABLE IF EXISTS ") + kStageTable + "; CREATE TEMP TABLE " +
         "fieldsync_transfer_stage (LIKE " + RenderQualifiedName(plan.target) +
         " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS";
}

std::string RenderStageCopyIn(const TablePlan& plan) {
  return std::string("COPY ") + kStageTable + " (" + JoinColumns(plan.columns, "") + ") FROM STDIN";
}

std::string RenderMerge(const TablePlan& plan) {
  std::string sql = "WITH written AS (INSERT INTO " + RenderQualifiedName(plan.target) + " AS t (" +
                    JoinColumns(plan.columns, "") + ") SELECT " + JoinColumns(plan.columns, "") +
                    " FROM " + kStageTable + " ON CONFLICT";
  std::vector<std::string> changing;
  for (const auto& column : plan.columns) {
    bool in_key = false;
    for (const auto& key : plan.key) in_key = in_key || key == column;
    if (!in_key) changing.push_back(column);
  }
  if (plan.on_conflict == ConflictAction::kUpdate && !plan.key.empty() && !changing.empty()) {
    sql += " (" + JoinColumns(plan.key, "") + ") DO UPDATE SET ";
    for (size_t i = 0; i < changing.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += QuoteIdentifier(changing[i]) + " = EXCLUDED." + QuoteIdentifier(changing[i]);
    }
    // ROW(...) so that a single column compares as a row too.
    sql += " WHERE ROW(" + JoinColumns(changing, "t.") + ") IS DISTINCT FROM ROW(" +
           JoinColumns(changing, "EXCLUDED.") + ")";
  } else {
    sql += " DO NOTHING";
  }
  // xmax is 0 on a freshly inserted row version and set on one that replaced an older row.
  return sql +
         " RETURNING (t.xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE inserted), "
         "count(*) FILTER (WHERE NOT inserted) FROM written";
}

std::string RenderTextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace fieldsync::sync
