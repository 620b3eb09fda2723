#include "sync/pg_connection.hpp"

#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <thread>

#include "sync/conninfo.hpp"
#include "sync/sql_state.hpp"

namespace fieldsync::sync {
namespace {

using core::Errc;
using core::MakeError;

std::string Trimmed(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? std::string("no message from libpq") : s;
}

bool IsCopyStatus(ExecStatusType status) {
  return status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH;
}

bool IsErrorStatus(ExecStatusType status) {
  return status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE ||
         status == PGRES_NONFATAL_ERROR;
}

// Sends a cancel request without blocking the caller: PQcancel opens its own connection and
// may wait on a dead network. The PGcancel object is independent of the PGconn we drop.
void CancelInBackground(PGconn* conn) {
  PGcancel* cancel = PQgetCancel(conn);
  if (cancel == nullptr) return;
  try {
    std::thread([cancel] {
      char errbuf[256];
      (void)PQcancel(cancel, errbuf, sizeof errbuf);
      PQfreeCancel(cancel);
    }).detach();
  } catch (const std::system_error&) {
    PQfreeCancel(cancel);  // no thread: the dropped connection still ends the transaction
  }
}

}  // namespace

int PgResult::rows() const { return result_ ? PQntuples(result_.get()) : 0; }
int PgResult::columns() const { return result_ ? PQnfields(result_.get()) : 0; }

std::string_view PgResult::Value(int row, int column) const {
  const char* v = PQgetvalue(result_.get(), row, column);
  return std::string_view(v, static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

bool PgResult::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::int64_t PgResult::AffectedRows() const {
  if (!result_) return 0;
  const std::string_view text = PQcmdTuples(result_.get());
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

std::string PgResult::CommandTag() const { return result_ ? PQcmdStatus(result_.get()) : ""; }

core::Expected<std::unique_ptr<PgConnection>> PgConnection::Connect(std::string_view conninfo,
                                                                    std::int64_t op_timeout_s) {
  if (!conninfo.empty() && ConninfoKeys(conninfo).empty()) {
    // libpq's parse message may quote the string, password included: not shown.
    return MakeError(Errc::kInvalidArgument,
                     "malformed PostgreSQL connection string " + RedactConninfo(conninfo));
  }
  const char* env_timeout = std::getenv("PGCONNECT_TIMEOUT");
  const auto params = ConnectParams(conninfo, op_timeout_s, env_timeout ? env_timeout : "");
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [key, value] : params) {
    keywords.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  PgConnPtr conn(PQconnectStartParams(keywords.data(), values.data(), 1));
  if (!conn) return MakeError(Errc::kInternal, "libpq could not allocate a connection");
  std::unique_ptr<PgConnection> self(new PgConnection(std::move(conn), op_timeout_s));
  PGconn* raw = self->conn_.get();
  if (PQstatus(raw) == CONNECTION_BAD) return self->LinkError("connect");
  const Deadline deadline = self->NewDeadline();
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) return self->LinkError("connect");
    auto waited =
        self->Wait(state == PGRES_POLLING_READING, state == PGRES_POLLING_WRITING, deadline);
    if (!waited) return waited.error().Wrap("connect");
    state = PQconnectPoll(raw);
  }
  if (PQsetnonblocking(raw, 1) != 0) return self->LinkError("connect");
  // Server notices (NOTICE: ... skipping) are not errors and must not reach stderr unasked.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  return self;
}

PgConnection::PgConnection(PgConnPtr conn, std::int64_t op_timeout_s)
    : conn_(std::move(conn)), op_timeout_s_(op_timeout_s > 0 ? op_timeout_s : 30) {}

PgConnection::~PgConnection() = default;

bool PgConnection::connected() const {
  return conn_ != nullptr && PQstatus(conn_.get()) == CONNECTION_OK;
}

int PgConnection::server_version() const { return conn_ ? PQserverVersion(conn_.get()) : 0; }

PgConnection::Deadline PgConnection::NewDeadline() const {
  return std::chrono::steady_clock::now() + std::chrono::seconds(op_timeout_s_);
}

core::Status PgConnection::Wait(bool for_read, bool for_write, Deadline deadline) {
  const int fd = PQsocket(conn_.get());
  if (fd < 0) return LinkError("wait");
  pollfd p{};
  p.fd = fd;
  p.events = static_cast<short>((for_read ? POLLIN : 0) | (for_write ? POLLOUT : 0));
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return TimeoutError("wait");
    const int n = ::poll(&p, 1, static_cast<int>(left.count() > 60'000 ? 60'000 : left.count()));
    if (n > 0) return core::Ok();
    if (n < 0 && errno != EINTR) {
      return MakeError(Errc::kIo,
                       std::string("poll on the PostgreSQL socket: ") + std::strerror(errno));
    }
  }
}

core::Status PgConnection::Flush(Deadline deadline) {
  while (true) {
    const int r = PQflush(conn_.get());
    if (r == 0) return core::Ok();
    if (r < 0) return LinkError("send");
    // The server may be waiting for us to read before it reads more: take input too.
    auto waited = Wait(true, true, deadline);
    if (!waited) return waited;
    if (PQconsumeInput(conn_.get()) == 0) return LinkError("receive");
  }
}

core::Expected<PgResultPtr> PgConnection::NextResult(Deadline deadline) {
  while (PQisBusy(conn_.get()) != 0) {
    auto waited = Wait(true, false, deadline);
    if (!waited) return waited.error();
    if (PQconsumeInput(conn_.get()) == 0) return LinkError("receive");
  }
  return PgResultPtr(PQgetResult(conn_.get()));
}

core::Expected<PgResult> PgConnection::Collect(Deadline deadline) {
  std::optional<core::Error> first_error;
  PgResultPtr last;
  while (true) {
    auto next = NextResult(deadline);
    if (!next) return next.error();
    if (!*next) break;
    const ExecStatusType status = PQresultStatus(next->get());
    if (IsCopyStatus(status)) return PgResult(std::move(*next));
    if (IsErrorStatus(status)) {
      if (!first_error) first_error = ResultError(next->get());
      if (!conn_) return *first_error;  // the link failed with it
    } else {
      last = std::move(*next);
    }
  }
  if (PQstatus(conn_.get()) == CONNECTION_BAD) return LinkError("query");
  if (first_error) return *first_error;
  last_sqlstate_.clear();
  return PgResult(std::move(last));
}

core::Expected<PgResult> PgConnection::Exec(std::string_view sql,
                                            const std::vector<PgParam>& params) {
  if (!connected()) return MakeError(Errc::kUnavailable, "not connected to PostgreSQL");
  const Deadline deadline = NewDeadline();
  const std::string text(sql);
  int sent = 0;
  if (params.empty()) {
    sent = PQsendQuery(conn_.get(), text.c_str());
  } else {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    sent = PQsendQueryParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  }
  if (sent == 0) return LinkError("send");
  if (auto flushed = Flush(deadline); !flushed) return flushed.error();
  auto result = Collect(deadline);
  if (result && conn_ && PQtransactionStatus(conn_.get()) == PQTRANS_ACTIVE) {
    // A COPY started through Exec would leave the connection mid-protocol: drop it.
    Close();
    return MakeError(Errc::kInternal, "COPY must go through BeginCopy/BeginCopyOut");
  }
  return result;
}

core::Expected<std::vector<PgResult>> PgConnection::ExecPipeline(
    const std::vector<PgStatement>& statements, std::size_t* failed) {
  if (failed != nullptr) *failed = statements.size();
  if (!connected()) return MakeError(Errc::kUnavailable, "not connected to PostgreSQL");
  const Deadline deadline = NewDeadline();
  PGconn* conn = conn_.get();
  if (PQenterPipelineMode(conn) == 0) return LinkError("pipeline");
  for (const PgStatement& statement : statements) {
    std::vector<const char*> values;
    for (const auto& p : statement.params) values.push_back(p ? p->c_str() : nullptr);
    if (PQsendQueryParams(conn, statement.sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0) == 0) {
      return LinkError("send");
    }
  }
  if (PQpipelineSync(conn) == 0) return LinkError("send");
  if (auto flushed = Flush(deadline); !flushed) return flushed.error();

  std::vector<PgResult> results(statements.size());
  std::optional<core::Error> first_error;
  std::size_t failed_at = statements.size();
  // Each statement's results end with a null result; the pipeline ends with its sync result.
  for (std::size_t i = 0; i < statements.size(); ++i) {
    while (true) {
      auto next = NextResult(deadline);
      if (!next) return next.error();
      if (!*next) break;
      const ExecStatusType status = PQresultStatus(next->get());
      if (status == PGRES_PIPELINE_ABORTED) continue;  // skipped after an earlier error
      if (IsErrorStatus(status)) {
        core::Error error = ResultError(next->get());
        if (!conn_) return error;  // the link failed with it
        if (!first_error) {
          first_error = std::move(error);
          failed_at = i;
        }
        continue;
      }
      results[i] = PgResult(std::move(*next));
    }
  }
  auto sync = NextResult(deadline);
  if (!sync) return sync.error();
  if (!*sync || PQresultStatus(sync->get()) != PGRES_PIPELINE_SYNC ||
      PQexitPipelineMode(conn_.get()) == 0) {
    Close();
    return MakeError(Errc::kUnavailable, "PostgreSQL pipeline: unexpected protocol state");
  }
  if (first_error) {
    if (failed != nullptr) *failed = failed_at;
    return *first_error;
  }
  last_sqlstate_.clear();
  return results;
}

core::Status PgConnection::BeginCopy(std::string_view copy_sql) {
  if (!connected()) return MakeError(Errc::kUnavailable, "not connected to PostgreSQL");
  const Deadline deadline = NewDeadline();
  const std::string text(copy_sql);
  if (PQsendQuery(conn_.get(), text.c_str()) == 0) return LinkError("send");
  if (auto flushed = Flush(deadline); !flushed) return flushed;
  auto result = Collect(deadline);
  if (!result) return result.error();
  // Collect stops at COPY IN; anything else means the statement was not a COPY FROM STDIN.
  auto status = PQtransactionStatus(conn_.get());
  if (status != PQTRANS_ACTIVE) {
    return MakeError(Errc::kInternal, "statement did not start COPY FROM STDIN");
  }
  return core::Ok();
}

core::Status PgConnection::PutCopyData(std::string_view data) {
  if (!connected()) return MakeError(Errc::kUnavailable, "not connected to PostgreSQL");
  const Deadline deadline = NewDeadline();
  while (true) {
    const int r = PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size()));
    if (r == 1) break;
    if (r < 0) return LinkError("COPY");
    auto waited = Wait(true, true, deadline);
    if (!waited) return waited;
    if (PQconsumeInput(conn_.get()) == 0) return LinkError("receive");
  }
  // Everything goes to the kernel before the next chunk is made: libpq's buffer would otherwise
  // grow by whatever the server has not yet taken (memory proportional to the backlog).
  return Flush(deadline);
}

core::Expected<PgResult> PgConnection::EndCopy() {
  if (!connected()) return MakeError(Errc::kUnavailable, "not connected to PostgreSQL");
  const Deadline deadline = NewDeadline();
  while (true) {
    const int r = PQputCopyEnd(conn_.get(), nullptr);
    if (r == 1) break;
    if (r < 0) return LinkError("COPY end");
    auto waited = Wait(true, true, deadline);
    if (!waited) return waited.error();
    if (PQconsumeInput(conn_.get()) == 0) return LinkError("receive");
  }
  if (auto flushed = Flush(deadline); !flushed) return flushed.error();
  return Collect(deadline);
}

core::Status PgConnection::BeginCopyOut(std::string_view copy_sql) {
  if (!connected()) return MakeError(Errc::kUnavailable, "not connected to PostgreSQL");
  const Deadline deadline = NewDeadline();
  const std::string text(copy_sql);
  if (PQsendQuery(conn_.get(), text.c_str()) == 0) return LinkError("send");
  if (auto flushed = Flush(deadline); !flushed) return flushed;
  auto result = Collect(deadline);
  if (!result) return result.error();
  // Collect stops at a COPY state; anything else means the statement was not a COPY.
  if (PQtransactionStatus(conn_.get()) != PQTRANS_ACTIVE) {
    return MakeError(Errc::kInternal, "statement did not start COPY TO STDOUT");
  }
  return core::Ok();
}

core::Expected<std::optional<std::string_view>> PgConnection::GetCopyRow() {
  copy_row_.reset();
  if (!connected()) return MakeError(Errc::kUnavailable, "not connected to PostgreSQL");
  const Deadline deadline = NewDeadline();
  while (true) {
    char* row = nullptr;
    const int n = PQgetCopyData(conn_.get(), &row, 1);  // async: 0 means nothing buffered yet
    if (n > 0) {
      copy_row_.reset(row);
      return std::optional<std::string_view>(std::string_view(row, static_cast<size_t>(n)));
    }
    if (n == 0) {
      if (auto waited = Wait(true, false, deadline); !waited) return waited.error();
      if (PQconsumeInput(conn_.get()) == 0) return LinkError("receive");
      continue;
    }
    if (n == -1) {  // the copy is over: its final result says whether it went well
      auto done = Collect(deadline);
      if (!done) return done.error();
      return std::optional<std::string_view>();
    }
    return LinkError("COPY out");
  }
}

void PgConnection::RollbackQuietly() {
  if (!connected()) return;
  if (!Exec("ROLLBACK")) Close();
}

void PgConnection::Close() { conn_.reset(); }

core::Error PgConnection::LinkError(std::string_view what) {
  std::string message = std::string("PostgreSQL ") + std::string(what) + ": " +
                        (conn_ ? Trimmed(PQerrorMessage(conn_.get())) : "connection closed");
  last_sqlstate_.clear();
  conn_.reset();
  return MakeError(Errc::kUnavailable, std::move(message));
}

core::Error PgConnection::TimeoutError(std::string_view what) {
  if (conn_) CancelInBackground(conn_.get());
  conn_.reset();
  last_sqlstate_.clear();
  return MakeError(Errc::kTimeout, "PostgreSQL " + std::string(what) + ": no answer within " +
                                       std::to_string(op_timeout_s_) +
                                       " s (op_timeout_s); connection dropped");
}

core::Error PgConnection::ResultError(const PGresult* result) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  if ((state == nullptr || *state == '\0') && PQstatus(conn_.get()) == CONNECTION_BAD) {
    return LinkError("query");
  }
  last_sqlstate_ = state != nullptr ? state : "";
  std::string message = "SQLSTATE " + last_sqlstate_ + ": ";
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  message += primary != nullptr ? primary : Trimmed(PQresultErrorMessage(result));
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    message += std::string(" (") + detail + ")";
  }
  return MakeError(ErrcForSqlState(last_sqlstate_), std::move(message));
}

}  // namespace fieldsync::sync
