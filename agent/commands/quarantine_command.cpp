// `fieldsync quarantine list [--json] [--limit N] | retry [--all | ID...] [--dry-run] |
// purge [--all | ID...] [--dry-run]`: the readings the remote refused for their data (§5).
// `list` only reads (like status, it works while the agent runs); retry and purge write the
// store and take the state lock, so they are refused while `run` holds it.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "agent/cli.hpp"
#include "agent/command.hpp"
#include "agent/local_store.hpp"
#include "core/clock.hpp"
#include "core/time.hpp"
#include "store/quarantine.hpp"
#include "store/state_lock.hpp"
#include "store/store.hpp"

namespace fieldsync::agent {
namespace {

struct QuarantineFlags {
  bool json = false;
  std::size_t limit = 100;
  bool all = false;
  std::vector<std::int64_t> ids;
  bool dry_run = false;
};

int Fail(const std::string& message, int code = kExitFailure) {
  std::cerr << "fieldsync: " << message << "\n";
  return code;
}

bool StoreExists(const Config& config) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path(config.state_dir) / "fieldsync.db", ec);
}

nlohmann::json ToJson(const store::QuarantinedReading& q) {
  return {{"id", q.id},
          {"device", q.reading.device},
          {"metric", q.reading.metric},
          {"ts", core::FormatRfc3339(q.reading.ts)},
          {"value", q.reading.value},
          {"ts_source", std::string(core::ToString(q.reading.ts_source))},
          {"received_at", core::FormatRfc3339(q.received_at)},
          {"sqlstate", q.sqlstate},
          {"reason", q.reason},
          {"quarantined_at", core::FormatRfc3339(q.quarantined_at)}};
}

int List(const Config& config, const QuarantineFlags& flags) {
  std::vector<store::QuarantinedReading> rows;
  std::int64_t total = 0;
  // A gateway that never stored anything has no store yet; listing must not create one.
  if (StoreExists(config)) {
    core::SystemClock clock;
    auto opened = store::Store::Open(config.state_dir, config.store, clock);
    if (!opened) return Fail("cannot open the store: " + opened.error().message);
    auto listed = (*opened)->ListQuarantined(flags.limit);
    if (!listed) return Fail(listed.error().message);
    auto stats = (*opened)->Stats();
    if (!stats) return Fail(stats.error().message);
    rows = std::move(*listed);
    total = stats->quarantined;
  }
  if (flags.json) {
    nlohmann::json out = {{"quarantined", total}, {"rows", nlohmann::json::array()}};
    for (const auto& q : rows) out["rows"].push_back(ToJson(q));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& q : rows) {
    std::cout << q.id << "  " << q.reading.device << "  " << q.reading.metric << "  "
              << core::FormatRfc3339(q.reading.ts) << "  " << q.reading.value << "  "
              << (q.sqlstate.empty() ? "-" : q.sqlstate) << "  " << q.reason << "\n";
  }
  std::cout << total << " quarantined reading(s)";
  if (static_cast<std::int64_t>(rows.size()) < total) {
    std::cout << ", " << rows.size() << " shown (--limit)";
  }
  std::cout << "\n";
  return kExitOk;
}

int Change(const Config& config, const QuarantineFlags& flags, bool retry) {
  const char* verb = retry ? "retry" : "purge";
  if (flags.all == !flags.ids.empty()) {
    return Fail(std::string("quarantine ") + verb + ": give --all or one or more IDs", kExitUsage);
  }
  if (!StoreExists(config)) {
    if (!flags.all) return Fail("no store in " + config.state_dir + ": no quarantined readings");
    std::cout << "0 quarantined reading(s) " << (retry ? "retried" : "purged") << "\n";
    return kExitOk;
  }
  auto lock = store::StateLock::Acquire(config.state_dir);
  if (!lock) {
    return Fail(std::string("cannot ") + verb + " quarantined readings: " + lock.error().message +
                (lock.error().code == core::Errc::kBusy ? " (stop `fieldsync run` first)" : ""));
  }
  core::SystemClock clock;
  // With its aggregates: a retried reading is already in its buckets and must not be folded again.
  auto opened = LocalStore::Open(config, clock);
  if (!opened) return Fail("cannot open the store: " + opened.error().message);
  store::Store& store = (*opened)->store();
  const store::QuarantineSelection selection =
      flags.all ? store::QuarantineSelection::All() : store::QuarantineSelection::Ids(flags.ids);
  auto change = retry ? store.RetryQuarantined(selection, flags.dry_run)
                      : store.PurgeQuarantined(selection, flags.dry_run);
  if (!change) return Fail(change.error().message);
  if (!change->unknown_ids.empty()) {
    std::string ids;
    for (std::int64_t id : change->unknown_ids)
      ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    return Fail(std::string("no quarantined reading with id ") + ids + "; nothing changed");
  }
  std::cout << change->rows << " quarantined reading(s) "
            << (flags.dry_run ? (retry ? "would be retried" : "would be purged")
                              : (retry ? "retried" : "purged"));
  if (retry && change->already_pending > 0) {
    std::cout << " (" << change->already_pending << " already pending again)";
  }
  std::cout << "\n";
  return kExitOk;
}

int Run(const CommandContext& context, const QuarantineFlags& flags, const std::string& action) {
  auto config = context.LoadConfig();
  if (!config) return Fail(config.error().message, kExitUsage);
  if (action == "list") return List(*config, flags);
  return Change(*config, flags, action == "retry");
}

}  // namespace

void RegisterQuarantineCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<QuarantineFlags>();
  auto* quarantine =
      app.add_subcommand("quarantine", "list, retry or purge readings the remote refused");
  quarantine->require_subcommand(1);

  auto* list = quarantine->add_subcommand("list", "show quarantined readings, oldest first");
  list->add_flag("--json", flags->json, "print them as JSON");
  list->add_option("--limit", flags->limit, "show at most N (default 100)")
      ->check(CLI::PositiveNumber);
  list->callback([&context, flags] { context.exit_code = Run(context, *flags, "list"); });

  for (const char* action : {"retry", "purge"}) {
    const bool retry = std::string(action) == "retry";
    auto* sub = quarantine->add_subcommand(
        action, retry ? "move quarantined readings back to the upload queue"
                      : "delete quarantined readings (counted as quarantine_purged)");
    sub->add_flag("--all", flags->all, "every quarantined reading");
    sub->add_option("ID", flags->ids, "ids from `quarantine list`");
    sub->add_flag("--dry-run", flags->dry_run, "count what would change, change nothing");
    sub->callback([&context, flags, action] { context.exit_code = Run(context, *flags, action); });
  }
}

}  // namespace fieldsync::agent
