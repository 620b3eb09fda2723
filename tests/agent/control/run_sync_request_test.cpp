// The `sync` run request: its arguments, the totals of its cycles, and the answer the command
// prints from (the same text whether the command or a running agent uploaded).
#include "agent/run_sync_request.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using nlohmann::json;

namespace {

sync::CycleReport Cycle(std::int64_t inserted, bool more_pending,
                        sync::UploadOutcome outcome = sync::UploadOutcome::kOk,
                        const std::string& message = "") {
  sync::CycleReport report;
  report.batch_rows = inserted;
  report.inserted = inserted;
  report.skipped = 1;
  report.quarantined = 2;
  report.hourly = 3;
  report.daily = 4;
  report.more_pending = more_pending;
  report.outcome = outcome;
  report.message = message;
  return report;
}

}  // namespace

TEST_GROUP(SyncRunRequest){};

TEST(SyncRunRequest, ArgumentsDefaultToADrainThatSends) {
  auto plain = agent::SyncRequestFromJson(json::object());
  CHECK(plain.has_value());
  CHECK_FALSE(plain->once);
  CHECK_FALSE(plain->dry_run);

  auto both = agent::SyncRequestFromJson(agent::ToJson(agent::SyncRequest{true, true}));
  CHECK(both.has_value());
  CHECK(both->once);
  CHECK(both->dry_run);
}

TEST(SyncRunRequest, BadArgumentsAreUsageErrorsNamingTheMember) {
  auto not_bool = agent::SyncRequestFromJson(json{{"once", "yes"}});
  CHECK_FALSE(not_bool.has_value());
  CHECK(not_bool.error().code == core::Errc::kInvalidArgument);
  CHECK(not_bool.error().message.find("once") != std::string::npos);

  auto unknown = agent::SyncRequestFromJson(json{{"days", 3}});
  CHECK_FALSE(unknown.has_value());
  CHECK(unknown.error().code == core::Errc::kInvalidArgument);
  CHECK(unknown.error().message.find("days") != std::string::npos);

  CHECK_FALSE(agent::SyncRequestFromJson(json::array()).has_value());
}

TEST(SyncRunRequest, TotalsAddUpCyclesAndKeepTheLastOutcome) {
  agent::SyncTotals totals;
  totals.Add(Cycle(100, true, sync::UploadOutcome::kRetry, "connection reset"));
  CHECK_FALSE(totals.ok());
  STRCMP_EQUAL("connection reset", totals.message.c_str());
  totals.Add(Cycle(100, true));
  totals.Add(Cycle(50, false));
  LONGS_EQUAL(3, totals.cycles);
  LONGS_EQUAL(250, totals.inserted);
  LONGS_EQUAL(3, totals.skipped);
  LONGS_EQUAL(6, totals.quarantined);
  LONGS_EQUAL(9, totals.hourly);
  LONGS_EQUAL(12, totals.daily);
  CHECK(totals.ok());  // recovered: the failure is no longer the outcome
  CHECK(totals.message.empty());
  CHECK_FALSE(totals.more_pending);
}

TEST(SyncRunRequest, TheAgentsAnswerRendersAsTheCommandsOwnTotals) {
  agent::SyncTotals totals;
  totals.Add(Cycle(7, false, sync::UploadOutcome::kError, "schema fieldsync is missing"));
  const json answer = agent::SyncTotalsToJson(totals);
  STRCMP_EQUAL("error", answer["outcome"].get<std::string>().c_str());

  auto decoded = agent::SyncTotalsFromJson(json::parse(answer.dump()));
  CHECK(decoded.has_value());
  STRCMP_EQUAL(agent::RenderSyncTotals(totals).c_str(), agent::RenderSyncTotals(*decoded).c_str());
  STRCMP_EQUAL("inserted 7, skipped 1, quarantined 2, hourly buckets 3, daily buckets 4\n",
               agent::RenderSyncTotals(*decoded).c_str());
  CHECK_FALSE(decoded->ok());
  STRCMP_EQUAL("schema fieldsync is missing", decoded->message.c_str());
}

TEST(SyncRunRequest, APreviewCountsBatchesAndRendersAsTheCommandsDryRun) {
  agent::SyncPreview preview;
  preview.pending_buckets = 4;
  preview.pending_readings = 250;
  preview.batch_size = 100;
  preview.schema = "fs";
  preview.gateway = "gw1";
  const json answer = agent::SyncPreviewToJson(preview);
  CHECK(answer["dry_run"].get<bool>());
  LONGS_EQUAL(3, answer["batches"].get<long>());

  auto decoded = agent::SyncPreviewFromJson(answer);
  CHECK(decoded.has_value());
  STRCMP_EQUAL(
      "would upload 4 changed aggregate bucket(s), then 250 pending reading(s) in 3 batch(es) of "
      "up to 100 to schema fs as gateway gw1\n",
      agent::RenderSyncPreview(*decoded).c_str());
}

TEST(SyncRunRequest, AnAnswerOfAnotherShapeIsAnErrorNotZeros) {
  CHECK_FALSE(agent::SyncTotalsFromJson(json{{"inserted", 3}}).has_value());
  CHECK_FALSE(agent::SyncTotalsFromJson(json{{"cycles", 1},
                                             {"inserted", 3},
                                             {"skipped", 0},
                                             {"quarantined", 0},
                                             {"hourly", 0},
                                             {"daily", 0},
                                             {"outcome", "maybe"}})
                  .has_value());
  CHECK_FALSE(agent::SyncPreviewFromJson(json{{"pending_readings", 3}}).has_value());
}
