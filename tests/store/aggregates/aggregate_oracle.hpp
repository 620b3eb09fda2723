#pragma once
// An oracle for the incremental aggregates: every arrival goes into a plain SQLite table, and the
// buckets are computed at once with SQL window functions (running MAX over arrival order for the
// late window, LAG over ts order for counter steps, FIRST_VALUE for `last`). It shares no code
// with the incremental path except the zone lookup of the local day.

#include <date/tz.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "core/metric_spec.hpp"
#include "core/reading.hpp"
#include "store/bucket.hpp"
#include "store/sqlite.hpp"

// CppUTest's leak detector redefines `new`: its header comes after every standard header.
#include <CppUTest/TestHarness.h>

namespace fieldsync::testing {

using BucketKey = std::tuple<std::string, std::string, std::int64_t>;  // device, metric, bucket
using BucketMap = std::map<BucketKey, store::BucketStats>;

class AggregateOracle {
 public:
  AggregateOracle(std::string zone, std::int64_t late_window_s)
      : zone_(date::locate_zone(zone)), late_window_s_(late_window_s) {
    db_ = store::Database::Open(":memory:").value();
    CHECK_TRUE(db_->Exec("CREATE TABLE arrivals(seq INTEGER PRIMARY KEY, device TEXT, metric TEXT, "
                         "ts INTEGER, value REAL, kind TEXT, jitter REAL, lo REAL, hi REAL, "
                         "clo REAL, chi REAL, hour INTEGER, day INTEGER)")
                   .has_value());
  }

  void Add(const core::Reading& r, const core::MetricSpec& spec) {
    auto stmt = db_->Cached(
        "INSERT INTO arrivals(device, metric, ts, value, kind, jitter, lo, hi, clo, chi, hour, "
        "day) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    Ok((*stmt)->Bind(1, r.device));
    Ok((*stmt)->Bind(2, r.metric));
    Ok((*stmt)->Bind(3, std::int64_t{r.ts}));
    Ok((*stmt)->Bind(4, r.value));
    Ok((*stmt)->Bind(5, spec.kind == core::MetricKind::kCounter ? "counter" : "gauge"));
    Ok((*stmt)->Bind(6, spec.jitter));
    if (spec.profile) {
      Ok((*stmt)->Bind(7, spec.profile->optimal_lo));
      Ok((*stmt)->Bind(8, spec.profile->optimal_hi));
      Ok((*stmt)->Bind(9, spec.profile->critical_lo));
      Ok((*stmt)->Bind(10, spec.profile->critical_hi));
    } else {
      for (int i = 7; i <= 10; ++i) Ok((*stmt)->BindNull(i));
    }
    std::int64_t hour = r.ts - r.ts % (3600LL * 1000000);
    auto local =
        zone_->to_local(date::sys_time<std::chrono::microseconds>{std::chrono::microseconds{r.ts}});
    std::int64_t day = date::floor<date::days>(local).time_since_epoch().count();
    Ok((*stmt)->Bind(11, hour));
    Ok((*stmt)->Bind(12, day));
    CHECK_TRUE((*stmt)->Run().has_value());
  }

  static void Ok(const core::Status& s) { CHECK_TRUE(s.has_value()); }

  std::int64_t LateCount() {
    return **db_->QueryInt64("SELECT count(*) FROM (" + Flagged() + ") WHERE late = 1");
  }

  BucketMap Buckets(bool hourly) {
    const std::string key = hourly ? "hour" : "day";
    const std::string sql =
        "WITH ok AS (SELECT * FROM (" + Flagged() +
        ") WHERE late IS NOT 1), "
        "steps AS (SELECT *, LAG(value) OVER (PARTITION BY device, metric ORDER BY ts) AS prev, "
        "FIRST_VALUE(value) OVER (PARTITION BY device, metric, " +
        key +
        " ORDER BY ts DESC) AS lastv FROM ok) "
        "SELECT device, metric, " +
        key +
        ", count(*), sum(value), min(value), max(value), "
        "max(lastv), max(ts), CASE WHEN max(kind) = 'counter' THEN sum(CASE WHEN prev IS NULL "
        "THEN 0 WHEN value >= prev THEN value - prev WHEN prev - value < jitter THEN 0 ELSE "
        "value END) END, CASE WHEN max(lo) IS NULL THEN NULL ELSE sum(value >= lo AND value <= "
        "hi) END, CASE WHEN max(lo) IS NULL THEN NULL ELSE sum(value < clo OR value > chi) END "
        "FROM steps GROUP BY device, metric, " +
        key;
    auto stmt = db_->Prepare(sql);
    CHECK_TRUE(stmt.has_value());
    BucketMap out;
    while (*stmt->Step()) {
      store::BucketStats b;
      b.n = stmt->ColumnInt64(3);
      b.sum = stmt->ColumnDouble(4);
      b.min = stmt->ColumnDouble(5);
      b.max = stmt->ColumnDouble(6);
      b.last = stmt->ColumnDouble(7);
      b.last_ts = stmt->ColumnInt64(8);
      if (!stmt->ColumnIsNull(9)) b.delta = stmt->ColumnDouble(9);
      if (!stmt->ColumnIsNull(10)) b.optimal_n = stmt->ColumnInt64(10);
      if (!stmt->ColumnIsNull(11)) b.critical_n = stmt->ColumnInt64(11);
      out[{stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnInt64(2)}] = b;
    }
    return out;
  }

 private:
  std::string Flagged() const {
    return "SELECT *, ts < MAX(ts) OVER (PARTITION BY device, metric ORDER BY seq ROWS BETWEEN "
           "UNBOUNDED PRECEDING AND 1 PRECEDING) - " +
           std::to_string(late_window_s_ * 1000000) + " AS late FROM arrivals";
  }

  const date::time_zone* zone_;
  std::int64_t late_window_s_;
  std::unique_ptr<store::Database> db_;
};

inline void CheckSameBuckets(const BucketMap& expected, const BucketMap& actual) {
  LONGLONGS_EQUAL(static_cast<long long>(expected.size()), static_cast<long long>(actual.size()));
  for (const auto& [key, e] : expected) {
    auto it = actual.find(key);
    if (it == actual.end()) {
      FAIL(("missing bucket " + std::get<0>(key) + "/" + std::get<1>(key) + " " +
            std::to_string(std::get<2>(key)))
               .c_str());
    }
    const store::BucketStats& a = it->second;
    auto tol = [](double x) { return 1e-7 * std::max(1.0, std::fabs(x)); };
    LONGLONGS_EQUAL(e.n, a.n);
    DOUBLES_EQUAL(e.sum, a.sum, tol(e.sum));
    DOUBLES_EQUAL(e.min, a.min, 0);
    DOUBLES_EQUAL(e.max, a.max, 0);
    DOUBLES_EQUAL(e.last, a.last, 0);
    LONGLONGS_EQUAL(e.last_ts, a.last_ts);
    CHECK_EQUAL(e.delta.has_value(), a.delta.has_value());
    if (e.delta) DOUBLES_EQUAL(*e.delta, *a.delta, tol(*e.delta));
    CHECK_EQUAL(e.optimal_n.has_value(), a.optimal_n.has_value());
    if (e.optimal_n) LONGLONGS_EQUAL(*e.optimal_n, *a.optimal_n);
    CHECK_EQUAL(e.critical_n.has_value(), a.critical_n.has_value());
    if (e.critical_n) LONGLONGS_EQUAL(*e.critical_n, *a.critical_n);
  }
}

}  // namespace fieldsync::testing
