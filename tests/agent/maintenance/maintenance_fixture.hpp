#pragma once
// A gateway in a temporary directory for the maintenance command tests: its config, readings fed
// with `fieldsync ingest` (frames carrying their own ts), the built binary run on it, and direct
// looks into its SQLite store (bucket tables, uploads simulated through the store API).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "tests/agent/command_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace fieldsync::testing {

struct Point {
  core::TimeUs ts;
  double value;
};

// Parses an RFC 3339 instant; aborts the test binary on a typo in the test itself.
core::TimeUs At(const char* text);

// `count` readings of one series, `step` apart from `first`, values 20, 21, ... 20 + (i % 7).
std::vector<Point> Regular(core::TimeUs first, core::TimeUs step, int count);

class MaintenanceGateway {
 public:
  // `extra` is appended to the config file (e.g. a [sync] table).
  explicit MaintenanceGateway(const std::string& zone = "UTC", const std::string& extra = "");

  CommandOutput Run(const std::string& args) const;
  // Ingests `points` as frames of device dev1, metric temperature; returns the ingest output.
  CommandOutput Ingest(const std::vector<Point>& points) const;

  // Every row of agg_hourly and agg_daily, as text (equal text: equal bucket tables).
  std::string BucketTables() const;
  std::int64_t Count(const std::string& table) const;
  // Deletes the `n` oldest raw readings as an upload does (Store::DeleteUploaded).
  void DeleteOldestReadings(std::size_t n) const;
  // Marks uploaded the hourly buckets starting before `hourly_before` and the daily buckets of
  // local days before `daily_before` (days since 1970-01-01), as the uploader does.
  void MarkUploaded(core::TimeUs hourly_before, std::int64_t daily_before) const;

  const std::string& state_dir() const { return state_dir_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string config_;
  std::string state_dir_;
  std::string timezone_;
};

// The command's stdout as JSON; fails the test when it is not.
nlohmann::json JsonOf(const CommandOutput& output);

}  // namespace fieldsync::testing
