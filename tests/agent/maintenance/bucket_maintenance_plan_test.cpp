// Planning of `aggregate` and `backfill` (ranges of whole buckets, local days across DST and in a
// half-hour zone, usage errors) and the run-request arguments of the three commands. Pure: no I/O.
#include <string>

#include "agent/bucket_maintenance.hpp"
#include "core/time.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::agent::AggregateRequest;
using fieldsync::agent::AggregateScope;
using fieldsync::agent::BackfillRequest;
using fieldsync::agent::CleanupRequest;
using fieldsync::agent::RecomputePass;
using fieldsync::agent::RetainedRange;
using fieldsync::store::BucketKind;
using fieldsync::store::TimeZone;
namespace core = fieldsync::core;
namespace agent = fieldsync::agent;

namespace {

core::TimeUs At(const char* text) {
  auto ts = core::ParseRfc3339(text);
  if (!ts) FAIL(text);
  return *ts;
}

TimeZone Zone(const char* name) {
  auto zone = TimeZone::FromName(name);
  if (!zone) FAIL(zone.error().message.c_str());
  return *zone;
}

void CheckPass(const RecomputePass& pass, BucketKind kind, const char* from, const char* to) {
  CHECK(pass.kind == kind);
  STRCMP_EQUAL(from, core::FormatRfc3339(pass.from).c_str());
  STRCMP_EQUAL(to, core::FormatRfc3339(pass.to).c_str());
}

BackfillRequest Dates(const char* from, const char* to) {
  BackfillRequest request;
  request.from = from;
  request.to = to;
  return request;
}

// The tz database and each zone's rules load once per process and stay until exit; load them
// before CppUTest starts counting allocations so that they are not reported as leaks.
const bool kZonesLoaded = [] {
  for (const char* name : {"UTC", "Europe/Berlin", "Asia/Kolkata"}) {
    (void)TimeZone::FromName(name);
  }
  return true;
}();

const core::TimeUs kNow = 0;  // backfill by dates does not depend on the current time

}  // namespace

TEST_GROUP(MaintenancePlan){};

TEST(MaintenancePlan, BackfillOfTheAutumnDstDayInBerlinCoversItsTwentyFiveHours) {
  auto plan = agent::PlanBackfill(Dates("2026-10-25", "2026-10-25"), Zone("Europe/Berlin"), kNow);
  CHECK(plan.has_value());
  LONGS_EQUAL(2, plan->size());
  CheckPass((*plan)[0], BucketKind::kHourly, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z");
  CheckPass((*plan)[1], BucketKind::kDaily, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z");
}

TEST(MaintenancePlan, BackfillOfTheSpringDstDayInBerlinCoversItsTwentyThreeHours) {
  auto plan = agent::PlanBackfill(Dates("2026-03-29", "2026-03-29"), Zone("Europe/Berlin"), kNow);
  CHECK(plan.has_value());
  CheckPass((*plan)[0], BucketKind::kHourly, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z");
  CheckPass((*plan)[1], BucketKind::kDaily, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z");
}

TEST(MaintenancePlan, HourlyPassOfAHalfHourZoneCoversTheHoursOverlappingTheDays) {
  auto plan = agent::PlanBackfill(Dates("2026-01-10", "2026-01-11"), Zone("Asia/Kolkata"), kNow);
  CHECK(plan.has_value());
  CheckPass((*plan)[0], BucketKind::kHourly, "2026-01-09T18:00:00Z", "2026-01-11T19:00:00Z");
  CheckPass((*plan)[1], BucketKind::kDaily, "2026-01-09T18:30:00Z", "2026-01-11T18:30:00Z");
}

TEST(MaintenancePlan, BackfillDaysCountsTodayInTheZone) {
  // 23:30 UTC on the 21st is already the 22nd in Berlin.
  BackfillRequest request;
  request.days = 2;
  auto plan = agent::PlanBackfill(request, Zone("Europe/Berlin"), At("2026-11-21T23:30:00Z"));
  CHECK(plan.has_value());
  CheckPass((*plan)[1], BucketKind::kDaily, "2026-11-20T23:00:00Z", "2026-11-22T23:00:00Z");
}

TEST(MaintenancePlan, BackfillUsageErrors) {
  const TimeZone utc = Zone("UTC");
  BackfillRequest both = Dates("2026-10-01", "2026-10-02");
  both.days = 3;
  BackfillRequest only_from;
  only_from.from = "2026-10-01";
  BackfillRequest zero_days;
  zero_days.days = 0;
  for (const BackfillRequest& bad :
       {BackfillRequest{}, both, only_from, zero_days, Dates("2026-10-26", "2026-10-25"),
        Dates("2026-13-01", "2026-13-02"), Dates("yesterday", "2026-10-25")}) {
    auto plan = agent::PlanBackfill(bad, utc, kNow);
    CHECK_FALSE(plan.has_value());
    CHECK(plan.error().code == core::Errc::kInvalidArgument);
  }
  auto reversed = agent::PlanBackfill(Dates("2026-10-26", "2026-10-25"), utc, kNow);
  CHECK(reversed.error().message.find("after") != std::string::npos);
}

TEST(MaintenancePlan, AggregateHourlyDefaultsToTheLastTwentyFourHoursWithTheCurrentOne) {
  AggregateRequest request;
  request.scope = AggregateScope::kHourly;
  auto plan = agent::PlanAggregate(request, Zone("UTC"), At("2026-11-22T10:15:00Z"), std::nullopt);
  CHECK(plan.has_value());
  LONGS_EQUAL(1, plan->size());
  CheckPass((*plan)[0], BucketKind::kHourly, "2026-11-21T11:00:00Z", "2026-11-22T11:00:00Z");

  request.days = 2;  // hourly over 48 hours
  plan = agent::PlanAggregate(request, Zone("UTC"), At("2026-11-22T10:15:00Z"), std::nullopt);
  CheckPass((*plan)[0], BucketKind::kHourly, "2026-11-20T11:00:00Z", "2026-11-22T11:00:00Z");
}

TEST(MaintenancePlan, AggregateDailyDefaultsToTheLastSevenLocalDays) {
  AggregateRequest request;
  request.scope = AggregateScope::kDaily;
  auto plan = agent::PlanAggregate(request, Zone("Europe/Berlin"), At("2026-11-22T10:15:00Z"), {});
  CHECK(plan.has_value());
  LONGS_EQUAL(1, plan->size());
  CheckPass((*plan)[0], BucketKind::kDaily, "2026-11-15T23:00:00Z", "2026-11-22T23:00:00Z");
}

TEST(MaintenancePlan, AggregateFullCoversTheRetainedReadings) {
  AggregateRequest request;
  request.scope = AggregateScope::kFull;
  RetainedRange retained{At("2026-10-24T21:45:00Z"), At("2026-10-26T00:00:00Z")};
  auto plan = agent::PlanAggregate(request, Zone("Europe/Berlin"), kNow, retained);
  CHECK(plan.has_value());
  LONGS_EQUAL(2, plan->size());
  CheckPass((*plan)[0], BucketKind::kHourly, "2026-10-24T21:00:00Z", "2026-10-26T01:00:00Z");
  // 21:45Z is 23:45 on the 24th in Berlin; 00:00Z on the 26th is 01:00 on the 26th.
  CheckPass((*plan)[1], BucketKind::kDaily, "2026-10-23T22:00:00Z", "2026-10-26T23:00:00Z");

  auto empty = agent::PlanAggregate(request, Zone("UTC"), kNow, std::nullopt);
  CHECK(empty.has_value());
  LONGS_EQUAL(2, empty->size());
  CHECK((*empty)[0].from == (*empty)[0].to);
}

TEST(MaintenancePlan, AggregateUsageErrors) {
  const TimeZone utc = Zone("UTC");
  AggregateRequest hours_and_days{AggregateScope::kHourly, 3, 1, false};
  AggregateRequest daily_hours{AggregateScope::kDaily, 3, std::nullopt, false};
  AggregateRequest full_hours{AggregateScope::kFull, 3, std::nullopt, false};
  AggregateRequest zero{AggregateScope::kHourly, 0, std::nullopt, false};
  AggregateRequest huge{AggregateScope::kDaily, std::nullopt, agent::kMaxMaintenanceDays + 1,
                        false};
  for (const AggregateRequest& bad : {hours_and_days, daily_hours, full_hours, zero, huge}) {
    auto plan = agent::PlanAggregate(bad, utc, kNow, std::nullopt);
    CHECK_FALSE(plan.has_value());
    CHECK(plan.error().code == core::Errc::kInvalidArgument);
  }
}

TEST(MaintenancePlan, CleanupRetentionMustNotBeNegative) {
  CHECK(agent::CheckCleanup(CleanupRequest{0, false}).has_value());
  CHECK(agent::CheckCleanup(CleanupRequest{std::nullopt, false}).has_value());
  CHECK_FALSE(agent::CheckCleanup(CleanupRequest{-1, false}).has_value());
}

TEST(MaintenancePlan, RunRequestArgumentsRoundTrip) {
  AggregateRequest aggregate{AggregateScope::kHourly, 6, std::nullopt, true};
  auto a = agent::AggregateRequestFromJson(agent::ToJson(aggregate));
  CHECK(a.has_value());
  CHECK(a->scope == AggregateScope::kHourly);
  CHECK(a->hours == 6);
  CHECK_FALSE(a->days.has_value());
  CHECK(a->dry_run);

  auto b = agent::BackfillRequestFromJson(agent::ToJson(Dates("2026-10-24", "2026-10-25")));
  CHECK(b.has_value());
  STRCMP_EQUAL("2026-10-24", b->from->c_str());
  STRCMP_EQUAL("2026-10-25", b->to->c_str());
  CHECK_FALSE(b->dry_run);

  auto c = agent::CleanupRequestFromJson(agent::ToJson(CleanupRequest{30, false}));
  CHECK(c.has_value());
  CHECK(c->retention_days == 30);
}

TEST(MaintenancePlan, RunRequestArgumentsAreChecked) {
  CHECK_FALSE(agent::AggregateRequestFromJson({{"days", 3}}).has_value());  // no scope
  CHECK_FALSE(agent::AggregateRequestFromJson({{"scope", "weekly"}}).has_value());
  CHECK_FALSE(agent::AggregateRequestFromJson({{"scope", "full"}, {"days", "3"}}).has_value());
  CHECK_FALSE(agent::BackfillRequestFromJson({{"day", 3}}).has_value());
  CHECK_FALSE(agent::CleanupRequestFromJson({{"dry_run", "yes"}}).has_value());
  CHECK_FALSE(agent::CleanupRequestFromJson(nlohmann::json::array()).has_value());
}
