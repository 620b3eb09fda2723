#include "sync/transfer_options.hpp"

#include "core/names.hpp"
#include "core/time.hpp"

namespace fieldsync::sync {
namespace {

using core::Errc;
using core::MakeError;

core::Error Usage(std::string message) {
  return MakeError(Errc::kInvalidArgument, std::move(message));
}

}  // namespace

core::Expected<QualifiedName> ParseQualifiedName(std::string_view text) {
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) {
    return Usage("--table wants SCHEMA.NAME, got \"" + std::string(text) + "\"");
  }
  QualifiedName name{std::string(text.substr(0, dot)), std::string(text.substr(dot + 1))};
  if (!core::IsValidSqlIdentifier(name.schema) || !core::IsValidSqlIdentifier(name.name)) {
    return Usage("--table \"" + std::string(text) +
                 "\": schema and table must be identifiers of [A-Za-z0-9_], not starting with "
                 "a digit");
  }
  return name;
}

core::Expected<ColumnFilter> ParseColumnFilter(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Usage("--filter wants COL=VALUE, got \"" + std::string(text) + "\"");
  }
  ColumnFilter filter{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
  if (!core::IsValidSqlIdentifier(filter.column)) {
    return Usage("--filter: \"" + filter.column + "\" is not a valid column name");
  }
  return filter;
}

core::Expected<ConflictAction> ParseConflictAction(std::string_view text) {
  if (text == "skip") return ConflictAction::kSkip;
  if (text == "update") return ConflictAction::kUpdate;
  return Usage("--on-conflict wants skip or update, got \"" + std::string(text) + "\"");
}

core::Status ValidateTransferOptions(const TransferOptions& options) {
  if (options.source_url.empty()) return Usage("--source-url is required");
  if (options.target_url.empty()) return Usage("--target-url is required");
  if (options.batch_size <= 0) return Usage("--batch-size must be a positive number of rows");
  if (options.start_day.has_value() != options.end_day.has_value()) {
    return Usage("--start-date and --end-date go together");
  }
  if (options.start_day && *options.end_day < *options.start_day) {
    return Usage("--end-date " + core::FormatIsoDate(*options.end_day) +
                 " is before --start-date " + core::FormatIsoDate(*options.start_day));
  }
  if (options.timezone.empty()) return Usage("--timezone must not be empty");
  const bool generic = !options.table.empty();
  if (!generic) {
    if (!options.start_day) return Usage("--start-date and --end-date are required");
    if (!core::IsValidSqlIdentifier(options.schema)) {
      return Usage("--schema \"" + options.schema + "\" is not a valid schema name");
    }
    if (!options.time_column.empty() || !options.filters.empty() ||
        options.on_conflict != ConflictAction::kSkip) {
      return Usage("--time-column, --filter and --on-conflict go with --table");
    }
    return core::Ok();
  }
  if (auto name = ParseQualifiedName(options.table); !name) return name.error();
  if (options.devices) return Usage("--devices goes with the fieldsync tables, not --table");
  if (!options.time_column.empty()) {
    if (!core::IsValidSqlIdentifier(options.time_column)) {
      return Usage("--time-column \"" + options.time_column + "\" is not a valid column name");
    }
    if (!options.start_day) return Usage("--time-column needs --start-date and --end-date");
  } else if (options.start_day) {
    return Usage("--start-date and --end-date need --time-column with --table");
  }
  for (const auto& filter : options.filters) {
    if (!core::IsValidSqlIdentifier(filter.column)) {
      return Usage("--filter: \"" + filter.column + "\" is not a valid column name");
    }
  }
  return core::Ok();
}

}  // namespace fieldsync::sync
