// `transfer --table`: any table, every column with its exact type and value, conflict target
// from the target's primary key, --on-conflict update touching only rows that differ.

#include "tests/sync/pg_test_schema.hpp"
#include "tests/sync/transfer/transfer_test_support.hpp"

// CppUTest last: its leak checker redefines operator new.
#include <CppUTest/TestHarness.h>

using fieldsync::core::Errc;
using namespace fieldsync::sync;
using namespace fieldsync::testing;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

constexpr const char* kThings = R"(
  CREATE SCHEMA app;
  CREATE TABLE app.things (
    id uuid PRIMARY KEY, doc jsonb, amount numeric(20,6), big numeric, tags text[],
    grid integer[][], at timestamptz NOT NULL, note text, flag boolean, span interval,
    raw bytea, ratio double precision))";

// Rows chosen for their awkward text forms: tabs, newlines, backslashes, quotes, NULLs inside
// arrays, unicode, precision beyond double, microseconds, special floats.
constexpr const char* kThingRows = R"(
  INSERT INTO app.things VALUES
   ('00000000-0000-0000-0000-000000000001', '{"a": [1, 2.50, null], "b": {"c": "tab\there"}}',
    12345678901234.123456, 3.141592653589793238462643383279502884197, '{"x","y z","q\"uote",NULL}',
    '{{1,2},{3,4}}', '2024-03-02 00:00:00Z', E'line1\nline2\ttab\\back', true, '1 day 02:03:04.5',
    '\xdeadbeef', 0.1),
   ('00000000-0000-0000-0000-000000000002', 'null', -0.000001, 1e-30, '{}', NULL,
    '2024-03-02 13:14:15.123456+05:30', 'ünïcødé ✓ ''single''', false, NULL, '\x', 'NaN'),
   ('00000000-0000-0000-0000-000000000003', NULL, NULL, NULL, NULL, NULL,
    '2024-03-03 23:59:59.999999Z', NULL, NULL, NULL, NULL, '-Infinity'),
   ('00000000-0000-0000-0000-000000000004', '[]', 1, 1, '{a}', '{{5}}',
    '2024-03-04 00:00:00Z', 'next day: out of range', true, '0', NULL, 1e308))";

}  // namespace

TEST_GROUP(TransferGeneric){};

TEST(TransferGeneric, EveryTypeArrivesExactly) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  dbs.Source(kThings);
  dbs.Target(kThings);
  dbs.Source(kThingRows);
  auto options = OptionsFor(dbs, "2024-03-02", "2024-03-03");
  options.table = "app.things";
  options.time_column = "at";
  auto report = Transfer(options);
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  const auto counts = CountsOf(*report, "app.things");
  CHECK_EQUAL(3, counts.fetched);
  CHECK_EQUAL(3, counts.inserted);
  const std::string in_range = "app.things x WHERE at < '2024-03-04Z'";
  STRCMP_EQUAL(dbs.SourceValue(Fingerprint(in_range)).c_str(),
               dbs.TargetValue(Fingerprint("app.things x")).c_str());
  STRCMP_EQUAL("3", dbs.TargetValue("SELECT count(*) FROM app.things").c_str());
}

TEST(TransferGeneric, ColumnsMatchByNameWhateverTheirOrder) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  dbs.Source(
      "CREATE SCHEMA app; CREATE TABLE app.t (a int PRIMARY KEY, b text, c jsonb);"
      "INSERT INTO app.t VALUES (1, 'one', '{\"k\": 1}'), (2, NULL, '[2]')");
  dbs.Target("CREATE SCHEMA app; CREATE TABLE app.t (c jsonb, b text, a int PRIMARY KEY)");
  auto options = OptionsFor(dbs, "", "");
  options.table = "app.t";
  auto report = Transfer(options);
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  STRCMP_EQUAL("1|one|{\"k\": 1};2||[2]",
               dbs.TargetValue("SELECT string_agg(concat_ws('|', a, coalesce(b, ''), c), ';' "
                               "ORDER BY a) FROM app.t")
                   .c_str());
}

TEST(TransferGeneric, UpdateChangesOnlyRowsThatDiffer) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  const char* table =
      "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, v jsonb, "
      "n numeric, tags text[])";
  dbs.Source(table);
  dbs.Target(table);
  dbs.Source(
      "INSERT INTO app.t SELECT i, jsonb_build_object('i', i), i * 1.5, ARRAY['t' || i] "
      "FROM generate_series(1, 10) i");
  // 1-3 identical, 4 differs in jsonb, 5 in an array (NULL vs value), 6-10 absent, 11 only here.
  dbs.Target(
      "INSERT INTO app.t SELECT i, jsonb_build_object('i', i), i * 1.5, ARRAY['t' || i] "
      "FROM generate_series(1, 3) i;"
      "INSERT INTO app.t VALUES (4, '{\"i\": 40}', 6.0, '{t4}'), (5, '{\"i\": 5}', 7.5, NULL),"
      " (11, '{}', 0, '{}')");
  const std::string before =
      dbs.TargetValue("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM app.t WHERE id <= 3");
  auto options = OptionsFor(dbs, "", "");
  options.table = "app.t";
  options.on_conflict = ConflictAction::kUpdate;
  options.batch_size = 4;
  auto report = Transfer(options);
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  const auto counts = CountsOf(*report, "app.t");
  CHECK_EQUAL(10, counts.fetched);
  CHECK_EQUAL(5, counts.inserted);
  CHECK_EQUAL(2, counts.updated);
  CHECK_EQUAL(3, counts.skipped);
  STRCMP_EQUAL(dbs.SourceValue(Fingerprint("app.t x")).c_str(),
               dbs.TargetValue(Fingerprint("app.t x WHERE id <= 10")).c_str());
  // The identical rows were not even rewritten; the target-only row is untouched.
  STRCMP_EQUAL(before.c_str(), dbs.TargetValue("SELECT string_agg(xmin::text, ',' ORDER BY id) "
                                               "FROM app.t WHERE id <= 3")
                                   .c_str());
  STRCMP_EQUAL("1", dbs.TargetValue("SELECT count(*) FROM app.t WHERE id = 11").c_str());

  auto again = Transfer(options);
  CHECK(again.has_value());
  CHECK_EQUAL(0, CountsOf(*again, "app.t").updated);
  CHECK_EQUAL(10, CountsOf(*again, "app.t").skipped);
}

TEST(TransferGeneric, FiltersCompareInTheColumnTypeWithValuesNeverInTheSql) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  const char* table =
      "CREATE SCHEMA app; CREATE TABLE app.t (id uuid PRIMARY KEY, who text, "
      "at timestamptz)";
  dbs.Source(table);
  dbs.Target(table);
  dbs.Source(
      "INSERT INTO app.t VALUES "
      "('00000000-0000-0000-0000-00000000000a', 'o''brien\"; DROP TABLE app.t; --', "
      "'2024-03-02Z'), ('00000000-0000-0000-0000-00000000000b', 'other', '2024-03-02Z'), "
      "('00000000-0000-0000-0000-00000000000c', 'o''brien\"; DROP TABLE app.t; --', "
      "'2024-03-09Z')");
  auto options = OptionsFor(dbs, "2024-03-01", "2024-03-05");
  options.table = "app.t";
  options.time_column = "at";
  options.filters = {{"who", "o'brien\"; DROP TABLE app.t; --"}};
  auto report = Transfer(options);
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  STRCMP_EQUAL("00000000-0000-0000-0000-00000000000a",
               dbs.TargetValue("SELECT string_agg(id::text, ',') FROM app.t").c_str());
  // A value compared as a uuid: the uppercase spelling still matches.
  options.filters = {{"id", "00000000-0000-0000-0000-00000000000B"}};
  report = Transfer(options);
  CHECK_TEXT(report.has_value(), report ? "" : report.error().message.c_str());
  CHECK_EQUAL(1, CountsOf(*report, "app.t").inserted);
  STRCMP_EQUAL("3", dbs.SourceValue("SELECT count(*) FROM app.t").c_str());
}

TEST(TransferGeneric, ColumnMismatchIsNamedAndWritesNothing) {
  auto url = TestPgUrl();
  if (!url) return;
  TransferDatabases dbs(*url);
  dbs.Source(
      "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, colour text);"
      "INSERT INTO app.t VALUES (1, 'red')");
  dbs.Target("CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, color text)");
  auto options = OptionsFor(dbs, "", "");
  options.table = "app.t";
  auto report = Transfer(options);
  CHECK(!report);
  CHECK_TEXT(Contains(report.error().message, "\"colour\""), report.error().message.c_str());
  CHECK(Contains(report.error().message, "missing in the target"));
  STRCMP_EQUAL("0", dbs.TargetValue("SELECT count(*) FROM app.t").c_str());

  options.table = "app.nosuch";
  report = Transfer(options);
  CHECK(!report && report.error().code == Errc::kNotFound);
  STRCMP_EQUAL("source: table app.nosuch does not exist", report.error().message.c_str());
}
