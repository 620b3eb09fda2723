#include "sync/transfer.hpp"

#include <cstdio>
#include <memory>

#include "core/time.hpp"
#include "sync/conninfo.hpp"
#include "sync/remote_schema.hpp"
#include "sync/table_shape.hpp"

namespace fieldsync::sync {
namespace {

using core::Errc;
using core::MakeError;
using ConnectionPtr = std::unique_ptr<PgConnection>;

// Both sides speak the same text forms, so COPY text out of one is exactly what the other reads
// back: times in UTC ISO, shortest exact floats, UTF-8 whatever the databases' encodings.
constexpr const char* kSessionSettings =
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 3; SET client_encoding = 'UTF8'; SET bytea_output = 'hex'";

constexpr size_t kDeviceListWidth = 96;

core::Expected<ConnectionPtr> Open(const std::string& url, const std::string& side,
                                   std::int64_t op_timeout_s, bool read_only) {
  auto conn = PgConnection::Connect(url, op_timeout_s);
  if (!conn) return conn.error().Wrap(side + ": cannot connect");
  std::string setup = kSessionSettings;
  if (read_only) {
    // Read-only twice over: the session default refuses writes even outside the snapshot.
    setup = "SET default_transaction_read_only = on; " + setup +
            "; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  }
  if (auto done = (*conn)->Exec(setup); !done) return done.error().Wrap(side + ": session setup");
  return std::move(*conn);
}

// Sets the range settings of transfer_plan.hpp on the source; PostgreSQL does the zone
// arithmetic, so a day across a DST change is 23 or 25 hours long.
core::Expected<std::string> SetRange(PgConnection& source, const TransferOptions& options) {
  if (!options.start_day) return std::string();
  const std::string start = core::FormatIsoDate(*options.start_day);
  const std::string end = core::FormatIsoDate(*options.end_day);
  auto set = source.Exec(std::string("SELECT set_config('") + kStartDaySetting +
                             "', $1::date::text, true), " + "set_config('" + kEndDaySetting +
                             "', $2::date::text, true), set_config('" + kRangeStartSetting +
                             "', (($1::date)::timestamp AT TIME ZONE $3)::text, true), " +
                             "set_config('" + kRangeEndSetting +
                             "', (($2::date + 1)::timestamp AT TIME ZONE $3)::text, true)",
                         {start, end, options.timezone});
  if (!set) {
    if (source.last_sqlstate() == "22023") {
      return MakeError(Errc::kInvalidArgument, "--timezone \"" + options.timezone +
                                                   "\" is not a time zone: " + set.error().message);
    }
    return set.error().Wrap("source: date range");
  }
  return start + " .. " + end + " (" + options.timezone + "): [" + std::string(set->Value(0, 2)) +
         ", " + std::string(set->Value(0, 3)) + ")";
}

core::Status SetFilters(PgConnection& source, const std::vector<ColumnFilter>& filters) {
  for (size_t i = 0; i < filters.size(); ++i) {
    auto set = source.Exec("SELECT set_config($1, $2, true)", {FilterSetting(i), filters[i].value});
    if (!set) return set.error().Wrap("source: --filter " + filters[i].column);
  }
  return core::Ok();
}

core::Expected<TablePlan> PlanOne(PgConnection& source, PgConnection& target,
                                  const QualifiedName& name, ConflictAction on_conflict,
                                  const std::string& where, const std::string& label) {
  auto from = ReadTableShape(source, name, "source");
  if (!from) return from.error();
  auto to = ReadTableShape(target, name, "target");
  if (!to) return to.error();
  auto plan = PlanTable(*from, *to, on_conflict, where);
  if (plan) plan->label = label;
  return plan;
}

core::Expected<std::vector<TablePlan>> PlanAll(PgConnection& source, PgConnection& target,
                                               const TransferOptions& options) {
  std::vector<TablePlan> plans;
  if (!options.table.empty()) {
    auto name = ParseQualifiedName(options.table);
    if (!name) return name.error();
    auto from = ReadTableShape(source, *name, "source");
    if (!from) return from.error();
    auto to = ReadTableShape(target, *name, "target");
    if (!to) return to.error();
    auto plan = PlanGenericTable(*from, *to, options);
    if (!plan) return plan.error();
    plans.push_back(std::move(*plan));
    return plans;
  }
  auto quoted = QuoteSchemaName(options.schema);
  if (!quoted) return quoted.error();
  for (const auto& table : FieldsyncTables(*quoted, options.devices)) {
    auto plan = PlanOne(source, target, {options.schema, table.name}, table.on_conflict,
                        table.condition, table.name);
    if (!plan) return plan.error();
    plans.push_back(std::move(*plan));
  }
  return plans;
}

// Every (gateway, device) the range speaks of must already be in the target's devices.
core::Status CheckDevices(PgConnection& source, PgConnection& target, const std::string& schema) {
  auto quoted = QuoteSchemaName(schema);
  if (!quoted) return quoted.error();
  std::string sql;
  for (const auto& table : FieldsyncTables(*quoted, false)) {
    if (!sql.empty()) sql += " UNION ";
    sql += "SELECT gateway, device FROM " + *quoted + "." + table.name + " src WHERE " +
           table.condition;
  }
  auto used = source.Exec(sql + " ORDER BY 1, 2");
  if (!used) return used.error().Wrap("source: devices of the range");
  if (used->rows() == 0) return core::Ok();
  std::vector<std::string> gateways, devices;
  for (int row = 0; row < used->rows(); ++row) {
    gateways.emplace_back(used->Value(row, 0));
    devices.emplace_back(used->Value(row, 1));
  }
  auto missing = target.Exec(
      "SELECT u.g || '/' || u.d FROM unnest($1::text[], $2::text[]) AS u(g, d) "
      "WHERE NOT EXISTS (SELECT 1 FROM " +
          *quoted + ".devices t WHERE t.gateway = u.g AND t.device = u.d) ORDER BY u.g, u.d",
      {RenderTextArray(gateways), RenderTextArray(devices)});
  if (!missing) return missing.error().Wrap("target: devices");
  if (missing->rows() == 0) return core::Ok();
  std::vector<std::string> names;
  for (int row = 0; row < missing->rows(); ++row) names.emplace_back(missing->Value(row, 0));
  return MakeError(Errc::kConflict, std::to_string(names.size()) +
                                        " device(s) of the range are missing from the "
                                        "target's " +
                                        schema +
                                        ".devices; nothing was written (copy them with "
                                        "--devices):\n  " +
                                        ListThatFits(names, kDeviceListWidth));
}

}  // namespace

std::vector<std::string> TransferWarnings(const TransferOptions& options) {
  std::vector<std::string> warnings;
  for (const auto& [side, url] :
       {std::pair<const char*, const std::string&>{"source", options.source_url},
        {"target", options.target_url}}) {
    if (ConninfoHasPassword(url)) {
      warnings.push_back(std::string("the ") + side +
                         " URL carries a password; prefer .pgpass, PGPASSFILE or a service file");
    }
  }
  return warnings;
}

core::Expected<TransferReport> RunTransfer(const TransferOptions& options,
                                           TransferProgress& progress, const SecondsClock& now) {
  if (auto valid = ValidateTransferOptions(options); !valid) return valid.error();
  auto source = Open(options.source_url, "source", options.op_timeout_s, true);
  if (!source) return source.error();
  auto target = Open(options.target_url, "target", options.op_timeout_s, false);
  if (!target) return target.error();

  TransferReport report;
  report.dry_run = options.dry_run;
  auto range = SetRange(**source, options);
  if (!range) return range.error();
  report.range = *range;
  if (auto filtered = SetFilters(**source, options.filters); !filtered) return filtered.error();
  auto plans = PlanAll(**source, **target, options);
  if (!plans) return plans.error();
  if (options.table.empty() && !options.devices) {
    if (auto checked = CheckDevices(**source, **target, options.schema); !checked) {
      return checked.error();
    }
  }
  for (const auto& plan : *plans) {
    auto counts = options.dry_run
                      ? CountTable(**source, plan)
                      : CopyTable(**source, **target, plan, options.batch_size, progress, now);
    if (!counts) return counts.error();  // both connections close on return
    report.tables.push_back(std::move(*counts));
  }
  if (auto done = (*source)->Exec("COMMIT"); !done) return done.error().Wrap("source: end");
  return report;
}

std::string RenderTransferReport(const TransferReport& report) {
  bool any_updated = false;
  size_t width = 5;
  for (const auto& t : report.tables) {
    any_updated = any_updated || t.updated > 0;
    width = std::max(width, t.table.size());
  }
  auto cell = [](const std::string& text, size_t w, bool right) {
    std::string pad(w > text.size() ? w - text.size() : 0, ' ');
    return right ? pad + text : text + pad;
  };
  std::string out;
  if (!report.range.empty()) out += "range " + report.range + "\n";
  if (report.dry_run) {
    out += cell("table", width, false) + "  would fetch\n";
    for (const auto& t : report.tables) {
      out += cell(t.table, width, false) + "  " + cell(std::to_string(t.fetched), 11, true) + "\n";
    }
    return out + "dry run: nothing written\n";
  }
  out += cell("table", width, false) + "     fetched    inserted     skipped";
  out += any_updated ? "     updated\n" : "\n";
  for (const auto& t : report.tables) {
    out += cell(t.table, width, false) + cell(std::to_string(t.fetched), 12, true) +
           cell(std::to_string(t.inserted), 12, true) + cell(std::to_string(t.skipped), 12, true);
    out += any_updated ? cell(std::to_string(t.updated), 12, true) + "\n" : "\n";
  }
  return out;
}

std::string ListThatFits(const std::vector<std::string>& items, size_t width) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string piece = (i > 0 ? ", " : "") + items[i];
    const size_t rest = items.size() - i - 1;
    // Room for the tail " and N more" unless this is the last item.
    const std::string tail = rest > 0 ? " and " + std::to_string(rest) + " more" : "";
    if (i > 0 && out.size() + piece.size() + tail.size() > width) {
      return out + " and " + std::to_string(items.size() - i) + " more";
    }
    out += piece;
  }
  return out;
}

}  // namespace fieldsync::sync
