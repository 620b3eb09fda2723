#pragma once
// PgConnection: one libpq connection in non-blocking mode where every operation has a deadline.
//
// Connect takes a libpq URL or key=value string; libpq's own conventions keep working (PG*
// environment variables, .pgpass, the service file, sslmode). Keepalives, tcp_user_timeout and
// connect_timeout are added unless the string sets them (see ConnectParams).
//
// Every call below waits at most `op_timeout_s` (poll on the socket). When the deadline passes,
// a cancel request is sent in the background, the connection is dropped, and the call returns
// kTimeout. When the link fails, the connection is dropped and the call returns kUnavailable.
// After either, connected() is false and the object only answers errors: make a new one.
// Server errors carry their SQLSTATE (last_sqlstate()) and map as ErrcForSqlState says.
// Error messages never contain the connection string or a password.
//
// Not thread-safe: one thread owns a PgConnection.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "sync/pg_handles.hpp"

namespace fieldsync::sync {

// The result of one statement (the last one of a multi-statement string).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PgResultPtr result) : result_(std::move(result)) {}

  int rows() const;
  int columns() const;
  // REQUIRES: row < rows(), column < columns(). Empty for NULL; see IsNull.
  std::string_view Value(int row, int column) const;
  bool IsNull(int row, int column) const;
  // Rows affected as the command tag says ("INSERT 0 17" -> 17); 0 when it says none.
  std::int64_t AffectedRows() const;
  std::string CommandTag() const;

 private:
  PgResultPtr result_;
};

// A query parameter in text format; nullopt is SQL NULL.
using PgParam = std::optional<std::string>;

// One parameterised statement of a pipeline.
struct PgStatement {
  std::string sql;
  std::vector<PgParam> params;
};

class PgConnection {
 public:
  // Opens a connection within op_timeout_s. kInvalidArgument for a malformed string,
  // kUnavailable when the server cannot be reached or refuses the login, kTimeout.
  static core::Expected<std::unique_ptr<PgConnection>> Connect(std::string_view conninfo,
                                                               std::int64_t op_timeout_s);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  bool connected() const;
  int server_version() const;  // e.g. 150020; 0 when not connected
  // SQLSTATE of the last failed statement ("" after success or a link failure).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

  // Runs `sql` (several statements separated by ';' when `params` is empty) and returns the
  // last statement's result, or the first error.
  core::Expected<PgResult> Exec(std::string_view sql, const std::vector<PgParam>& params = {});

  // Sends all `statements` at once in libpq pipeline mode, so that together they cost one round
  // trip (one deadline), and returns their results in order. After a server error the server
  // skips the statements behind it (an open transaction is then aborted: roll it back); the
  // first error is returned and, when `failed` is given, the index of the statement that failed
  // (statements.size() for a link failure or a timeout). No COPY in a pipeline.
  core::Expected<std::vector<PgResult>> ExecPipeline(const std::vector<PgStatement>& statements,
                                                     std::size_t* failed = nullptr);

  // COPY ... FROM STDIN: Begin sends the statement, PutCopyData streams bytes (any split; it
  // returns once the kernel has taken them, so memory stays one chunk however fast we produce),
  // EndCopy finishes and returns the COPY result (AffectedRows = rows copied) or the server's
  // error about the data.
  core::Status BeginCopy(std::string_view copy_sql);
  core::Status PutCopyData(std::string_view data);
  core::Expected<PgResult> EndCopy();

  // COPY ... TO STDOUT, read row by row so that memory stays one row whatever the size.
  // BeginCopyOut sends the statement and waits (one deadline) until the server starts the copy.
  // GetCopyRow waits (one deadline per call) for the next row: in text format one line with
  // its '\n'; nullopt once the copy is complete and its final result was good; or the error.
  // The view is valid until the next call on this connection. Abandoning a copy half-way
  // leaves the connection unusable for anything else: Close it.
  core::Status BeginCopyOut(std::string_view copy_sql);
  core::Expected<std::optional<std::string_view>> GetCopyRow();

  // Best effort ROLLBACK after a failed statement inside a transaction; drops the connection if
  // even that fails, so the server aborts the transaction itself.
  void RollbackQuietly();
  // Drops the connection (the server rolls back any open transaction).
  void Close();

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  PgConnection(PgConnPtr conn, std::int64_t op_timeout_s);

  Deadline NewDeadline() const;
  core::Status Wait(bool for_read, bool for_write, Deadline deadline);
  core::Status Flush(Deadline deadline);
  // Waits for the next result; a null PgResultPtr means the command is complete.
  core::Expected<PgResultPtr> NextResult(Deadline deadline);
  // Collects results until the command is complete; stops early at COPY IN.
  core::Expected<PgResult> Collect(Deadline deadline);
  core::Error LinkError(std::string_view what);
  core::Error TimeoutError(std::string_view what);
  core::Error ResultError(const PGresult* result);

  struct CopyRowFreer {
    void operator()(char* row) const { PQfreemem(row); }
  };

  PgConnPtr conn_;
  std::int64_t op_timeout_s_;
  std::unique_ptr<char, CopyRowFreer> copy_row_;  // the row GetCopyRow last handed out
  std::string last_sqlstate_;
};

}  // namespace fieldsync::sync
