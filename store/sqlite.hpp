#pragma once
// Thin RAII layer over the SQLite C API. Every result code is checked and turned into a
// core::Error carrying SQLite's message and the caller's context:
//   SQLITE_FULL, and I/O errors caused by ENOSPC  -> Errc::kFull
//   SQLITE_BUSY, SQLITE_LOCKED                    -> Errc::kBusy
//   SQLITE_CORRUPT, SQLITE_NOTADB                 -> Errc::kCorrupt
//   other I/O, open and permission errors         -> Errc::kIo
// Not thread-safe: a Database and its statements belong to one thread.

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/expected.hpp"

namespace fieldsync::store {

// Builds the Error for result code `rc` of a call on `db` (which may be null).
core::Error SqliteError(sqlite3* db, int rc, std::string_view context);

// A prepared statement. Owns its sqlite3_stmt; move-only. Bind indexes start at 1, column
// indexes at 0 (as in SQLite).
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  core::Status Bind(int index, std::int64_t value);
  core::Status Bind(int index, double value);
  core::Status Bind(int index, std::string_view text);  // copied by SQLite
  core::Status BindNull(int index);

  // Runs one step: true when a row is available, false when the statement is done.
  core::Expected<bool> Step();
  // Steps to completion, for statements that return no rows.
  core::Status Run();
  // Binds ?1, ?2, ... to `values` in order, runs, and resets: one use of a statement that a
  // loop keeps.
  core::Status Run(std::initializer_list<std::int64_t> values);
  // Makes the statement runnable again and clears its bindings. Never fails: an error of the
  // previous step was already reported by Step.
  void Reset();

  std::int64_t ColumnInt64(int index) const;
  double ColumnDouble(int index) const;
  std::string ColumnText(int index) const;
  bool ColumnIsNull(int index) const;

  sqlite3_stmt* get() const { return stmt_; }

 private:
  core::Status Check(int rc, const char* what);
  sqlite3_stmt* stmt_ = nullptr;
};

// A statement borrowed from a Database's cache; resets it when the lease ends so that it holds
// no read snapshot and no bindings.
class CachedStatement {
 public:
  explicit CachedStatement(Statement* stmt) : stmt_(stmt) {}
  ~CachedStatement() {
    if (stmt_ != nullptr) stmt_->Reset();
  }
  CachedStatement(CachedStatement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  CachedStatement& operator=(CachedStatement&&) = delete;
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;

  Statement* operator->() const { return stmt_; }
  Statement& operator*() const { return *stmt_; }

 private:
  Statement* stmt_;
};

// An open SQLite connection. Owns the sqlite3 handle and a cache of prepared statements that
// is finalised before the connection closes. Move-only.
class Database {
 public:
  // Opens (creating if needed) the database at `path` (":memory:" for a private in-memory one).
  static core::Expected<std::unique_ptr<Database>> Open(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without parameters (schema, PRAGMAs, BEGIN/COMMIT).
  core::Status Exec(const std::string& sql);
  // Prepares a statement owned by the caller (one-off queries).
  core::Expected<Statement> Prepare(std::string_view sql);
  // Returns the cached prepared statement for `sql`, preparing it on first use. The hot path
  // uses this so that each distinct statement is compiled once per connection.
  core::Expected<CachedStatement> Cached(std::string_view sql);
  // Runs the cached statement for `sql` with ?1, ?2, ... bound to `values` in order.
  core::Status Run(std::string_view sql, std::initializer_list<std::int64_t> values);

  // Runs a query returning one integer (e.g. a PRAGMA); nullopt when it returned no row or NULL.
  core::Expected<std::optional<std::int64_t>> QueryInt64(const std::string& sql);
  core::Expected<std::optional<std::string>> QueryText(const std::string& sql);

  std::int64_t changes() const;
  std::int64_t last_insert_rowid() const;
  // False while a transaction is open.
  bool autocommit() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  // Looked up by string_view: a statement's text is not copied on every use.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const noexcept {
      return std::hash<std::string_view>{}(sql);
    }
  };
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed. Taking the write lock
// at BEGIN makes a busy store fail early (after busy_timeout) instead of at the first write.
class Transaction {
 public:
  static core::Expected<Transaction> Begin(Database& db);
  ~Transaction();
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  core::Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;  // null once committed or rolled back
};

// A nested savepoint inside a transaction; rolled back (to its start) on destruction unless
// released. Used for all-or-nothing frames inside one grouped commit.
class Savepoint {
 public:
  static core::Expected<Savepoint> Begin(Database& db);
  ~Savepoint();
  Savepoint(Savepoint&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Savepoint& operator=(Savepoint&&) = delete;
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;

  core::Status Release();
  // Undoes everything since Begin. Harmless when SQLite already rolled the whole transaction
  // back (check Database::autocommit()).
  void Rollback();

 private:
  explicit Savepoint(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace fieldsync::store
