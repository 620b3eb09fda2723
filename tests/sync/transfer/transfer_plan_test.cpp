// The transfer's pure parts: option checks, the SQL it renders, the device list, progress lines.
#include "sync/transfer_plan.hpp"

#include <sstream>

#include "core/time.hpp"
#include "sync/transfer.hpp"
#include "sync/transfer_progress.hpp"

// CppUTest last: its leak checker redefines operator new.
#include <CppUTest/TestHarness.h>

using fieldsync::core::Errc;
using namespace fieldsync::sync;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TransferOptions FieldsyncOptions() {
  TransferOptions o;
  o.source_url = "postgresql://a/src";
  o.target_url = "postgresql://a/dst";
  o.start_day = *fieldsync::core::ParseIsoDate("2024-03-01");
  o.end_day = *fieldsync::core::ParseIsoDate("2024-03-02");
  return o;
}

TableShape Shape(std::vector<ColumnShape> columns, std::vector<std::string> key) {
  return TableShape{{"app", "things"}, std::move(columns), std::move(key)};
}

}  // namespace

TEST_GROUP(TransferOptions){};

TEST(TransferOptions, EndBeforeStartIsAUsageErrorNamingBothDates) {
  auto o = FieldsyncOptions();
  o.end_day = *fieldsync::core::ParseIsoDate("2024-02-29");
  auto status = ValidateTransferOptions(o);
  CHECK(!status && status.error().code == Errc::kInvalidArgument);
  CHECK(Contains(status.error().message, "2024-02-29"));
  CHECK(Contains(status.error().message, "2024-03-01"));
  o.end_day = o.start_day;  // a single day is a valid range
  CHECK(ValidateTransferOptions(o).has_value());
}

TEST(TransferOptions, FieldsyncModeNeedsDatesAndRefusesGenericFlags) {
  auto o = FieldsyncOptions();
  o.start_day.reset();
  o.end_day.reset();
  CHECK(!ValidateTransferOptions(o));
  o = FieldsyncOptions();
  o.on_conflict = ConflictAction::kUpdate;
  CHECK(!ValidateTransferOptions(o));
  o = FieldsyncOptions();
  o.batch_size = 0;
  CHECK(!ValidateTransferOptions(o));
  o = FieldsyncOptions();
  o.schema = "bad-name";
  CHECK(!ValidateTransferOptions(o));
}

TEST(TransferOptions, GenericModeChecksNamesAndPairsDatesWithATimeColumn) {
  auto o = FieldsyncOptions();
  o.table = "app.things";
  CHECK(!ValidateTransferOptions(o));  // dates without a time column
  o.time_column = "created_at";
  CHECK(ValidateTransferOptions(o).has_value());
  o.table = "app.things; DROP TABLE x";
  CHECK(!ValidateTransferOptions(o));
  CHECK(!ParseQualifiedName("nodot"));
  auto name = ParseQualifiedName("app.things");
  CHECK(name.has_value());
  STRCMP_EQUAL("app", name->schema.c_str());
  STRCMP_EQUAL("things", name->name.c_str());
}

TEST(TransferOptions, FilterKeepsEverythingAfterTheFirstEquals) {
  auto f = ParseColumnFilter("note=a=b 'c'");
  CHECK(f.has_value());
  STRCMP_EQUAL("note", f->column.c_str());
  STRCMP_EQUAL("a=b 'c'", f->value.c_str());
  CHECK(!ParseColumnFilter("novalue"));
  CHECK(!ParseColumnFilter("bad col=1"));
  CHECK(ParseConflictAction("update").has_value());
  CHECK(!ParseConflictAction("replace"));
}

TEST_GROUP(TransferPlan){};

TEST(TransferPlan, IdentifiersAreQuoted) {
  STRCMP_EQUAL("\"a\"\"b\"", QuoteIdentifier("a\"b").c_str());
  STRCMP_EQUAL("\"s\".\"t\"", RenderQualifiedName({"s", "t"}).c_str());
}

TEST(TransferPlan, ColumnMissingOnEitherSideIsNamed) {
  auto source = Shape({{"id", "uuid"}, {"extra", "text"}}, {"id"});
  auto target = Shape({{"id", "uuid"}}, {"id"});
  auto matched = MatchColumns(source, target);
  CHECK(!matched);
  CHECK(Contains(matched.error().message, "\"extra\""));
  CHECK(Contains(matched.error().message, "missing in the target"));
  auto reverse = MatchColumns(target, source);
  CHECK(!reverse);
  CHECK(Contains(reverse.error().message, "missing in the source"));
}

TEST(TransferPlan, ColumnsFollowTheTargetOrder) {
  auto source = Shape({{"b", "int"}, {"a", "int"}}, {});
  auto target = Shape({{"a", "int"}, {"b", "int"}}, {"a"});
  auto plan = PlanTable(source, target, ConflictAction::kSkip, "true");
  CHECK(plan.has_value());
  STRCMP_EQUAL(
      "COPY (SELECT src.\"a\", src.\"b\" FROM \"app\".\"things\" src WHERE true) TO STDOUT",
      RenderCopyOut(*plan).c_str());
}

TEST(TransferPlan, UpdateChangesOnlyDifferingNonKeyColumns) {
  auto shape = Shape({{"id", "int"}, {"v", "jsonb"}, {"w", "text"}}, {"id"});
  auto plan = PlanTable(shape, shape, ConflictAction::kUpdate, "true");
  CHECK(plan.has_value());
  const std::string merge = RenderMerge(*plan);
  CHECK(Contains(merge,
                 "ON CONFLICT (\"id\") DO UPDATE SET \"v\" = EXCLUDED.\"v\", \"w\" = "
                 "EXCLUDED.\"w\" WHERE ROW(t.\"v\", t.\"w\") IS DISTINCT FROM "
                 "ROW(EXCLUDED.\"v\", EXCLUDED.\"w\")"));
  plan->on_conflict = ConflictAction::kSkip;
  CHECK(Contains(RenderMerge(*plan), "ON CONFLICT DO NOTHING"));
}

TEST(TransferPlan, UpdateWithoutPrimaryKeyIsRefused) {
  auto shape = Shape({{"id", "int"}}, {});
  auto plan = PlanTable(shape, shape, ConflictAction::kUpdate, "true");
  CHECK(!plan && plan.error().code == Errc::kInvalidArgument);
}

TEST(TransferPlan, TimeConditionFollowsTheColumnType) {
  auto tz = RenderTimeCondition("src", "ts", "timestamp with time zone");
  CHECK(tz.has_value());
  CHECK(
      Contains(*tz, "src.\"ts\" >= CAST(current_setting('fieldsync.range_start') AS timestamptz)"));
  CHECK(Contains(*tz, "src.\"ts\" < CAST(current_setting('fieldsync.range_end') AS timestamptz)"));
  auto day = RenderTimeCondition("src", "day", "date");
  CHECK(day.has_value());
  CHECK(Contains(*day, "<= CAST(current_setting('fieldsync.end_day') AS date)"));
  auto bad = RenderTimeCondition("src", "n", "integer");
  CHECK(!bad);
  CHECK(Contains(bad.error().message, "\"n\""));
}

TEST(TransferPlan, FilterValuesStayOutOfTheSql) {
  TransferOptions o = FieldsyncOptions();
  o.table = "app.things";
  o.start_day.reset();
  o.end_day.reset();
  o.filters = {{"name", "x'); DROP TABLE t; --"}};
  auto shape = Shape({{"id", "int"}, {"name", "character varying(20)"}}, {"id"});
  auto plan = PlanGenericTable(shape, shape, o);
  CHECK(plan.has_value());
  const std::string select = RenderSourceSelect(*plan);
  CHECK(!Contains(select, "DROP"));
  CHECK(Contains(select,
                 "src.\"name\" = CAST(current_setting('fieldsync.filter_0') AS "
                 "character varying(20))"));
  o.filters = {{"nope", "1"}};
  auto missing = PlanGenericTable(shape, shape, o);
  CHECK(!missing);
  CHECK(Contains(missing.error().message, "\"nope\""));
}

TEST(TransferPlan, TextArrayEscapesQuotesAndBackslashes) {
  STRCMP_EQUAL("{\"a\",\"b\\\"c\",\"d\\\\e\"}", RenderTextArray({"a", "b\"c", "d\\e"}).c_str());
  STRCMP_EQUAL("{}", RenderTextArray({}).c_str());
}

TEST(TransferPlan, FieldsyncTablesPutDevicesFirstOnlyWhenAsked) {
  auto plain = FieldsyncTables("\"fieldsync\"", false);
  CHECK_EQUAL(3u, plain.size());
  STRCMP_EQUAL("readings", plain[0].name.c_str());
  auto with = FieldsyncTables("\"fieldsync\"", true);
  CHECK_EQUAL(5u, with.size());
  STRCMP_EQUAL("devices", with[0].name.c_str());
  CHECK(with[0].on_conflict == ConflictAction::kUpdate);
  CHECK(with[2].on_conflict == ConflictAction::kSkip);
}

TEST_GROUP(TransferReport){};

TEST(TransferReport, DeviceListFitsTheWidthThenCounts) {
  std::vector<std::string> names;
  for (int i = 0; i < 30; ++i) names.push_back("gw/device-" + std::to_string(i));
  const std::string line = ListThatFits(names, 96);
  CHECK(line.size() <= 96);
  CHECK(Contains(line, "gw/device-0, gw/device-1"));
  // Every name is either listed or counted.
  size_t listed = 1;
  for (char c : line) listed += c == ',' ? 1 : 0;
  CHECK(Contains(line, " and " + std::to_string(names.size() - listed) + " more"));
  STRCMP_EQUAL("a, b", ListThatFits({"a", "b"}, 96).c_str());
}

TEST(TransferReport, ProgressShowsRateAndEta) {
  STRCMP_EQUAL("readings: 250/1000 rows (25%), 50 rows/s, ETA 15 s",
               FormatProgress("readings", 250, 1000, 5.0).c_str());
  STRCMP_EQUAL("t: 7 rows", FormatProgress("t", 7, -1, 0).c_str());
}

TEST(TransferReport, LogLinesArePaced) {
  std::ostringstream out;
  TransferProgress progress(out, false, 10.0);
  progress.StartTable("readings", 100, 0.0);
  progress.Advance(10, 1.0);
  CHECK(out.str().empty());
  progress.Advance(60, 11.0);
  CHECK(Contains(out.str(), "readings: 60/100 rows"));
  progress.FinishTable(100, 12.0);
  CHECK(Contains(out.str(), "readings: 100/100 rows (100%)"));
}

TEST(TransferReport, CountsTablePrintsEveryTable) {
  TransferReport report;
  report.tables = {{"readings", 10, 8, 0, 2}, {"hourly", 3, 0, 0, 3}};
  const std::string text = RenderTransferReport(report);
  CHECK(Contains(text, "fetched"));
  CHECK(Contains(text, "readings          10           8           2"));
  CHECK(Contains(text, "hourly             3           0           3"));
}
