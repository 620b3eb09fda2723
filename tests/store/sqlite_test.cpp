#include "store/sqlite.hpp"

#include <memory>
#include <string>

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::Errc;
using namespace fieldsync::store;

namespace {

std::unique_ptr<Database> OpenMemory() {
  auto db = Database::Open(":memory:");
  CHECK_TRUE(db.has_value());
  CHECK_TRUE(
      (*db)->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT UNIQUE, v REAL, n INTEGER)"));
  return std::move(*db);
}

std::int64_t Count(Database& db) {
  auto n = db.QueryInt64("SELECT count(*) FROM t");
  CHECK_TRUE(n.has_value());
  return n->value_or(-1);
}

}  // namespace

TEST_GROUP(Sqlite){};

TEST(Sqlite, BindsAndReadsBackEveryType) {
  auto db = OpenMemory();
  auto insert = db->Prepare("INSERT INTO t(k, v, n) VALUES(?1, ?2, ?3)");
  CHECK_TRUE(insert.has_value());
  CHECK_TRUE(insert->Bind(1, std::string_view("key")));
  CHECK_TRUE(insert->Bind(2, 2.5));
  CHECK_TRUE(insert->BindNull(3));
  CHECK_TRUE(insert->Run());
  auto select = db->Prepare("SELECT k, v, n, id FROM t");
  CHECK_TRUE(select.has_value());
  auto row = select->Step();
  CHECK_TRUE(row.has_value() && *row);
  STRCMP_EQUAL("key", select->ColumnText(0).c_str());
  DOUBLES_EQUAL(2.5, select->ColumnDouble(1), 0.0);
  CHECK_TRUE(select->ColumnIsNull(2));
  LONGS_EQUAL(db->last_insert_rowid(), select->ColumnInt64(3));
  row = select->Step();
  CHECK_TRUE(row.has_value() && !*row);
}

TEST(Sqlite, ErrorsCarryCodeContextAndSqliteMessage) {
  auto db = OpenMemory();
  auto bad = db->Prepare("SELECT nope FROM t");
  CHECK_FALSE(bad.has_value());
  CHECK(bad.error().code == Errc::kInternal);
  CHECK(bad.error().message.find("no such column: nope") != std::string::npos);
  CHECK(bad.error().message.find("SELECT nope FROM t") != std::string::npos);

  CHECK_TRUE(db->Exec("INSERT INTO t(k) VALUES('a')"));
  auto dup = db->Exec("INSERT INTO t(k) VALUES('a')");
  CHECK_FALSE(dup.has_value());
  CHECK(dup.error().code == Errc::kConflict);
  CHECK(dup.error().message.find("UNIQUE") != std::string::npos);
}

TEST(Sqlite, FullDatabaseIsKFull) {
  auto db = OpenMemory();
  CHECK_TRUE(db->Exec("PRAGMA max_page_count = 3"));
  fieldsync::core::Status status;
  for (int i = 0; i < 10000 && status; ++i) {
    auto stmt = db->Cached("INSERT INTO t(k) VALUES(?1)");
    CHECK_TRUE(stmt.has_value());
    status = (*stmt)->Bind(1, std::string_view(std::string(100, 'x') + std::to_string(i)));
    if (status) status = (*stmt)->Run();
  }
  CHECK_FALSE(status.has_value());
  CHECK(status.error().code == Errc::kFull);
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  auto db = OpenMemory();
  {
    auto txn = Transaction::Begin(*db);
    CHECK_TRUE(txn.has_value());
    CHECK_TRUE(db->Exec("INSERT INTO t(k) VALUES('gone')"));
  }
  LONGS_EQUAL(0, Count(*db));
  CHECK_TRUE(db->autocommit());
  {
    auto txn = Transaction::Begin(*db);
    CHECK_TRUE(txn.has_value());
    CHECK_TRUE(db->Exec("INSERT INTO t(k) VALUES('kept')"));
    CHECK_TRUE(txn->Commit());
  }
  LONGS_EQUAL(1, Count(*db));
}

TEST(Sqlite, SavepointUndoesOnlyItsOwnPart) {
  auto db = OpenMemory();
  auto txn = Transaction::Begin(*db);
  CHECK_TRUE(txn.has_value());
  CHECK_TRUE(db->Exec("INSERT INTO t(k) VALUES('before')"));
  {
    auto sp = Savepoint::Begin(*db);
    CHECK_TRUE(sp.has_value());
    CHECK_TRUE(db->Exec("INSERT INTO t(k) VALUES('inside')"));
  }
  {
    auto sp = Savepoint::Begin(*db);
    CHECK_TRUE(sp.has_value());
    CHECK_TRUE(db->Exec("INSERT INTO t(k) VALUES('released')"));
    CHECK_TRUE(sp->Release());
  }
  CHECK_TRUE(txn->Commit());
  auto rows = db->QueryText("SELECT group_concat(k, ',') FROM (SELECT k FROM t ORDER BY id)");
  CHECK_TRUE(rows.has_value());
  STRCMP_EQUAL("before,released", rows->value_or("").c_str());
}

TEST(Sqlite, CachedStatementIsReusableAfterPartialRead) {
  auto db = OpenMemory();
  CHECK_TRUE(db->Exec("INSERT INTO t(k) VALUES('a'),('b'),('c')"));
  for (int pass = 0; pass < 3; ++pass) {
    auto stmt = db->Cached("SELECT k FROM t ORDER BY id");
    CHECK_TRUE(stmt.has_value());
    auto row = (*stmt)->Step();
    CHECK_TRUE(row.has_value() && *row);
    STRCMP_EQUAL("a", (*stmt)->ColumnText(0).c_str());
  }
  // The leases above reset the statement: a write transaction is not blocked by a reader.
  CHECK_TRUE(db->Exec("BEGIN IMMEDIATE; DELETE FROM t; COMMIT"));
  LONGS_EQUAL(0, Count(*db));
}
