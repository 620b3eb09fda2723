#include "tests/agent/maintenance/maintenance_fixture.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "agent/local_store.hpp"
#include "core/clock.hpp"
#include "store/aggregate_store.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "store/time_zone.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

namespace fieldsync::testing {
namespace {

void Die(const std::string& what) {
  std::fprintf(stderr, "maintenance fixture: %s\n", what.c_str());
  std::abort();
}

std::string Rows(store::Database& db, const std::string& table, const std::string& key) {
  const std::string columns =
      "quote(series_id)||','||quote(" + key +
      ")||','||quote(n)||','||quote(sum_v)||','||quote(min_v)||','||quote(max_v)||','||"
      "quote(last_v)||','||quote(last_ts)||','||quote(delta)||','||quote(optimal_n)||','||"
      "quote(critical_n)||','||quote(version)||','||quote(uploaded_version)";
  auto text = db.QueryText("SELECT group_concat(r, ';') FROM (SELECT " + columns + " AS r FROM " +
                           table + " ORDER BY series_id, " + key + ")");
  if (!text) Die(text.error().message);
  return text->value_or("");
}

// The tz database and each zone's rules load once per process and stay until exit; load them
// before CppUTest starts counting allocations so that they are not reported as leaks.
const bool kZonesLoaded = [] {
  for (const char* name : {"UTC", "Europe/Berlin"}) (void)store::TimeZone::FromName(name);
  return true;
}();

}  // namespace

core::TimeUs At(const char* text) {
  auto ts = core::ParseRfc3339(text);
  if (!ts) Die(std::string("bad instant ") + text);
  return *ts;
}

std::vector<Point> Regular(core::TimeUs first, core::TimeUs step, int count) {
  std::vector<Point> points;
  for (int i = 0; i < count; ++i) points.push_back(Point{first + i * step, 20.0 + i % 7});
  return points;
}

MaintenanceGateway::MaintenanceGateway(const std::string& zone, const std::string& extra)
    : config_(dir_.File("fieldsync.toml")), state_dir_(dir_.File("state")), timezone_(zone) {
  WriteFile(config_, "gateway = \"gw-maint\"\nstate_dir = \"" + state_dir_ +
                         "\"\n[http]\nlisten = \"\"\n[aggregate]\ntimezone = \"" + zone + "\"\n" +
                         extra);
}

CommandOutput MaintenanceGateway::Run(const std::string& args) const {
  return RunFieldsync(dir_, "--config '" + config_ + "' " + args);
}

CommandOutput MaintenanceGateway::Ingest(const std::vector<Point>& points) const {
  std::ostringstream frames;
  frames.precision(17);
  for (const Point& p : points) {
    // Microsecond timestamps as numbers would be read as seconds' multiples; RFC 3339 is exact.
    frames << "{\"device\":\"dev1\",\"ts\":\"" << core::FormatRfc3339(p.ts)
           << "\",\"temperature\":" << p.value << "}\n";
  }
  const std::string file = dir_.File("frames.jsonl");
  WriteFile(file, frames.str());
  CommandOutput out = Run("ingest '" + file + "'");
  if (out.exit_code != 0) Die("ingest failed: " + out.err);
  return out;
}

std::string MaintenanceGateway::BucketTables() const {
  auto db = store::Database::Open(state_dir_ + "/fieldsync.db");
  if (!db) Die(db.error().message);
  return "hourly[" + Rows(**db, "agg_hourly", "bucket") + "] daily[" +
         Rows(**db, "agg_daily", "day") + "]";
}

std::int64_t MaintenanceGateway::Count(const std::string& table) const {
  auto db = store::Database::Open(state_dir_ + "/fieldsync.db");
  if (!db) Die(db.error().message);
  auto n = (*db)->QueryInt64("SELECT count(*) FROM " + table);
  if (!n) Die(n.error().message);
  return n->value_or(0);
}

void MaintenanceGateway::DeleteOldestReadings(std::size_t n) const {
  core::SystemClock clock;
  agent::Config config;
  config.state_dir = state_dir_;
  config.aggregate.timezone = timezone_;
  auto local = agent::LocalStore::Open(config, clock);
  if (!local) Die(local.error().message);
  auto batch = (*local)->store().OldestPending(n);
  if (!batch) Die(batch.error().message);
  if (auto s = (*local)->store().DeleteUploaded(batch->ids); !s) Die(s.error().message);
}

void MaintenanceGateway::MarkUploaded(core::TimeUs hourly_before, std::int64_t daily_before) const {
  core::SystemClock clock;
  auto store = store::Store::Open(state_dir_, store::StoreOptions{}, clock);
  if (!store) Die(store.error().message);
  store::AggregateOptions options;
  options.timezone = timezone_;
  auto aggregates = store::AggregateStore::Open((*store)->database(), options, {});
  if (!aggregates) Die(aggregates.error().message);
  auto hourly = aggregates->PendingHourly(100000);
  auto daily = aggregates->PendingDaily(100000);
  if (!hourly || !daily) Die("cannot read pending buckets");
  std::vector<store::HourlyRow> old_hours;
  for (const auto& row : *hourly) {
    if (row.bucket < hourly_before) old_hours.push_back(row);
  }
  std::vector<store::DailyRow> old_days;
  for (const auto& row : *daily) {
    if (row.day < daily_before) old_days.push_back(row);
  }
  if (!aggregates->MarkUploaded(old_hours) || !aggregates->MarkUploaded(old_days)) {
    Die("cannot mark buckets uploaded");
  }
}

nlohmann::json JsonOf(const CommandOutput& output) {
  nlohmann::json parsed = nlohmann::json::parse(output.out, nullptr, false);
  if (parsed.is_discarded()) FAIL(("not JSON: " + output.out + output.err).c_str());
  return parsed;
}

}  // namespace fieldsync::testing
