// `fieldsync transfer`: copy a date range of the fieldsync tables, or one named table, between
// two PostgreSQL databases (sync/transfer.hpp). Counts go to stdout; warnings, progress and
// errors to stderr. Needs no configuration file: both databases are named on the command line.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "agent/cli.hpp"
#include "agent/command.hpp"
#include "core/time.hpp"
#include "sync/transfer.hpp"

namespace fieldsync::agent {
namespace {

struct TransferArgs {
  sync::TransferOptions options;
  std::string start_date;
  std::string end_date;
  std::vector<std::string> filters;
  std::string on_conflict = "skip";
};

// Turns the raw flags into options; a message for a usage error (exit 2).
core::Status Complete(TransferArgs& args) {
  if (!args.start_date.empty()) {
    auto day = core::ParseIsoDate(args.start_date);
    if (!day)
      return core::MakeError(core::Errc::kInvalidArgument,
                             "--start-date \"" + args.start_date + "\" is not YYYY-MM-DD");
    args.options.start_day = *day;
  }
  if (!args.end_date.empty()) {
    auto day = core::ParseIsoDate(args.end_date);
    if (!day)
      return core::MakeError(core::Errc::kInvalidArgument,
                             "--end-date \"" + args.end_date + "\" is not YYYY-MM-DD");
    args.options.end_day = *day;
  }
  for (const auto& text : args.filters) {
    auto filter = sync::ParseColumnFilter(text);
    if (!filter) return filter.error();
    args.options.filters.push_back(*filter);
  }
  auto action = sync::ParseConflictAction(args.on_conflict);
  if (!action) return action.error();
  args.options.on_conflict = *action;
  return sync::ValidateTransferOptions(args.options);
}

void RunTransferCommand(TransferArgs& args, CommandContext& context) {
  if (auto complete = Complete(args); !complete) {
    std::cerr << "fieldsync transfer: " << complete.error().message << "\n";
    context.exit_code = kExitUsage;
    return;
  }
  for (const auto& warning : sync::TransferWarnings(args.options)) {
    std::cerr << "fieldsync transfer: warning: " << warning << "\n";
  }
  sync::TransferProgress progress(std::cerr, isatty(STDERR_FILENO) == 1);
  const auto start = std::chrono::steady_clock::now();
  auto now = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto report = sync::RunTransfer(args.options, progress, now);
  if (!report) {
    std::cerr << "fieldsync transfer: " << report.error().message << "\n";
    context.exit_code =
        report.error().code == core::Errc::kInvalidArgument ? kExitUsage : kExitFailure;
    return;
  }
  std::cout << sync::RenderTransferReport(*report) << std::flush;
  context.exit_code = kExitOk;
}

}  // namespace

void RegisterTransferCommand(CLI::App& app, CommandContext& context) {
  auto args = std::make_shared<TransferArgs>();
  auto* cmd = app.add_subcommand(
      "transfer", "copy a date range of readings and buckets (or one table) between databases");
  cmd->add_option("--source-url", args->options.source_url, "source database (only read)")
      ->required();
  cmd->add_option("--target-url", args->options.target_url, "target database")->required();
  cmd->add_option("--start-date", args->start_date, "first day, YYYY-MM-DD (inclusive)");
  cmd->add_option("--end-date", args->end_date, "last day, YYYY-MM-DD (inclusive)");
  cmd->add_flag("--devices", args->options.devices, "also upsert devices and metrics");
  cmd->add_option("--timezone", args->options.timezone, "IANA zone of the days (default UTC)");
  cmd->add_option("--batch-size", args->options.batch_size, "rows per committed batch")
      ->capture_default_str();
  cmd->add_flag("--dry-run", args->options.dry_run, "count what would be copied, write nothing");
  cmd->add_option("--schema", args->options.schema, "schema of the fieldsync tables")
      ->capture_default_str();
  cmd->add_option("--table", args->options.table, "copy this table (SCHEMA.NAME) instead");
  cmd->add_option("--time-column", args->options.time_column, "with --table: the date column");
  cmd->add_option("--filter", args->filters, "with --table: COL=VALUE (repeatable)");
  cmd->add_option("--on-conflict", args->on_conflict, "with --table: skip or update")
      ->capture_default_str();
  cmd->callback([args, &context] { RunTransferCommand(*args, context); });
}

}  // namespace fieldsync::agent
