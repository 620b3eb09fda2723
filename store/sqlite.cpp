#include "store/sqlite.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace fieldsync::store {
namespace {

core::Errc CodeFor(sqlite3* db, int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return core::Errc::kFull;
    case SQLITE_IOERR:
      // A write that hit ENOSPC is a full disk, handled like a full store (§3).
      if (db != nullptr && sqlite3_system_errno(db) == ENOSPC) return core::Errc::kFull;
      return core::Errc::kIo;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return core::Errc::kBusy;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return core::Errc::kCorrupt;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return core::Errc::kIo;
    case SQLITE_CONSTRAINT:
      return core::Errc::kConflict;
    default:
      return core::Errc::kInternal;
  }
}

}  // namespace

core::Error SqliteError(sqlite3* db, int rc, std::string_view context) {
  std::string message(context);
  message += ": ";
  // sqlite3_errmsg describes the most recent failure on the connection, which is this one as
  // long as we build the error right after the failing call.
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (sqlite code " + std::to_string(rc);
  if (db != nullptr && sqlite3_system_errno(db) != 0 && (rc & 0xff) == SQLITE_IOERR) {
    message += ", ";
    message += std::strerror(sqlite3_system_errno(db));
  }
  message += ")";
  return core::MakeError(CodeFor(db, rc), std::move(message));
}

// ---------------------------------------------------------------------------------- Statement

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

core::Status Statement::Check(int rc, const char* what) {
  if (rc == SQLITE_OK) return core::Ok();
  const char* sql = sqlite3_sql(stmt_);
  return SqliteError(sqlite3_db_handle(stmt_), rc,
                     std::string(what) + " in \"" + (sql != nullptr ? sql : "?") + "\"");
}

core::Status Statement::Bind(int index, std::int64_t value) {
  return Check(sqlite3_bind_int64(stmt_, index, value), "bind");
}

core::Status Statement::Bind(int index, double value) {
  return Check(sqlite3_bind_double(stmt_, index, value), "bind");
}

core::Status Statement::Bind(int index, std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) {
    return core::MakeError(core::Errc::kInvalidArgument, "bind: text too long");
  }
  return Check(
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
      "bind");
}

core::Status Statement::BindNull(int index) {
  return Check(sqlite3_bind_null(stmt_, index), "bind");
}

core::Expected<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  core::Status status = Check(rc, "step");
  return status.error();
}

core::Status Statement::Run() {
  while (true) {
    core::Expected<bool> row = Step();
    if (!row) return row.error();
    if (!*row) return core::Ok();
  }
}

core::Status Statement::Run(std::initializer_list<std::int64_t> values) {
  int index = 1;
  core::Status status = core::Ok();
  for (std::int64_t value : values) {
    status = Bind(index++, value);
    if (!status) break;
  }
  if (status) status = Run();
  Reset();
  return status;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::ColumnInt64(int index) const { return sqlite3_column_int64(stmt_, index); }

double Statement::ColumnDouble(int index) const { return sqlite3_column_double(stmt_, index); }

std::string Statement::ColumnText(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return {};
  int bytes = sqlite3_column_bytes(stmt_, index);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(bytes));
}

bool Statement::ColumnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

// ----------------------------------------------------------------------------------- Database

core::Expected<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
#ifdef SQLITE_OPEN_EXRESCODE
  flags |= SQLITE_OPEN_EXRESCODE;
#endif
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    core::Error error = SqliteError(db, rc, "open " + path);
    sqlite3_close_v2(db);  // sqlite3_open_v2 allocates a handle even on failure
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Database>(new Database(db, path));
}

Database::~Database() {
  cache_.clear();  // statements must be finalised before the connection closes
  sqlite3_close_v2(db_);
}

core::Status Database::Exec(const std::string& sql) {
  char* raw_message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &raw_message);
  if (rc == SQLITE_OK) return core::Ok();
  std::string detail = raw_message != nullptr ? raw_message : sqlite3_errstr(rc);
  sqlite3_free(raw_message);
  core::Error error = SqliteError(db_, rc, "exec \"" + sql.substr(0, 80) + "\"");
  error.message += " [" + detail + "]";
  return error;
}

core::Expected<Statement> Database::Prepare(std::string_view sql) {
  if (sql.size() > static_cast<std::size_t>(INT_MAX)) {
    return core::MakeError(core::Errc::kInvalidArgument, "prepare: statement too long");
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(db_, rc, "prepare \"" + std::string(sql) + "\"");
  }
  return Statement(stmt);
}

core::Expected<CachedStatement> Database::Cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    core::Expected<Statement> stmt = Prepare(sql);
    if (!stmt) return stmt.error();
    it = cache_.emplace(std::string(sql), std::make_unique<Statement>(std::move(*stmt))).first;
  }
  it->second->Reset();
  return CachedStatement(it->second.get());
}

core::Status Database::Run(std::string_view sql, std::initializer_list<std::int64_t> values) {
  core::Expected<CachedStatement> stmt = Cached(sql);
  if (!stmt) return stmt.error();
  return (*stmt)->Run(values);
}

core::Expected<std::optional<std::int64_t>> Database::QueryInt64(const std::string& sql) {
  core::Expected<Statement> stmt = Prepare(sql);
  if (!stmt) return stmt.error();
  core::Expected<bool> row = stmt->Step();
  if (!row) return row.error();
  if (!*row || stmt->ColumnIsNull(0)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(stmt->ColumnInt64(0));
}

core::Expected<std::optional<std::string>> Database::QueryText(const std::string& sql) {
  core::Expected<Statement> stmt = Prepare(sql);
  if (!stmt) return stmt.error();
  core::Expected<bool> row = stmt->Step();
  if (!row) return row.error();
  if (!*row || stmt->ColumnIsNull(0)) return std::optional<std::string>();
  return std::optional<std::string>(stmt->ColumnText(0));
}

std::int64_t Database::changes() const { return sqlite3_changes64(db_); }

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

bool Database::autocommit() const { return sqlite3_get_autocommit(db_) != 0; }

// -------------------------------------------------------------------- Transaction / Savepoint

core::Expected<Transaction> Transaction::Begin(Database& db) {
  core::Status status = db.Exec("BEGIN IMMEDIATE");
  if (!status) return status.error();
  return Transaction(&db);
}

Transaction::~Transaction() {
  // SQLite may already have rolled back after an I/O or full error; ROLLBACK would then fail.
  if (db_ != nullptr && !db_->autocommit()) (void)db_->Exec("ROLLBACK");
}

core::Status Transaction::Commit() {
  Database* db = std::exchange(db_, nullptr);
  if (db == nullptr) return core::MakeError(core::Errc::kInternal, "commit: no transaction");
  core::Status status = db->Exec("COMMIT");
  if (!status && !db->autocommit()) (void)db->Exec("ROLLBACK");
  return status;
}

core::Expected<Savepoint> Savepoint::Begin(Database& db) {
  core::Status status = db.Exec("SAVEPOINT fs_frame");
  if (!status) return status.error();
  return Savepoint(&db);
}

Savepoint::~Savepoint() { Rollback(); }

core::Status Savepoint::Release() {
  Database* db = std::exchange(db_, nullptr);
  if (db == nullptr) return core::MakeError(core::Errc::kInternal, "release: no savepoint");
  return db->Exec("RELEASE fs_frame");
}

void Savepoint::Rollback() {
  Database* db = std::exchange(db_, nullptr);
  if (db == nullptr || db->autocommit()) return;
  (void)db->Exec("ROLLBACK TO fs_frame");
  (void)db->Exec("RELEASE fs_frame");
}

}  // namespace fieldsync::store
