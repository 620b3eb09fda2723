#include "sync/uploader.hpp"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

#include "sync/copy_text.hpp"
#include "sync/gateway_ownership.hpp"
#include "sync/remote_schema.hpp"

namespace fieldsync::sync {
namespace {

using core::Errc;
using core::MakeError;

constexpr std::size_t kCopyChunkBytes = 256 * 1024;
// The local figures of the gateways row (a count over the whole outbox, costly with a large
// backlog) are read again after this long; in between, what was uploaded is subtracted.
constexpr auto kStateRefresh = std::chrono::seconds(5);
// Buckets are few per hour; this bounds one cycle even after a very long outage.
constexpr int kMaxBucketRoundsPerCycle = 20;

constexpr std::string_view kBucketStatColumns =
    "n, sum, avg, min, max, last, last_ts, delta, optimal_n, critical_n, optimal_pct, "
    "critical_pct";
constexpr std::string_view kBucketStatUpdates =
    "n = EXCLUDED.n, sum = EXCLUDED.sum, avg = EXCLUDED.avg, min = EXCLUDED.min, "
    "max = EXCLUDED.max, last = EXCLUDED.last, last_ts = EXCLUDED.last_ts, "
    "delta = EXCLUDED.delta, optimal_n = EXCLUDED.optimal_n, critical_n = EXCLUDED.critical_n, "
    "optimal_pct = EXCLUDED.optimal_pct, critical_pct = EXCLUDED.critical_pct, "
    "updated_at = EXCLUDED.updated_at";

UploadOutcome OutcomeFor(Errc code) {
  return (code == Errc::kUnavailable || code == Errc::kTimeout) ? UploadOutcome::kRetry
                                                                : UploadOutcome::kError;
}

template <class T>
void OptionalInt(CopyTextWriter& w, const std::optional<T>& v) {
  if (v) {
    w.Int(static_cast<std::int64_t>(*v));
  } else {
    w.Null();
  }
}

void OptionalDouble(CopyTextWriter& w, const std::optional<double>& v) {
  if (v) {
    w.Double(*v);
  } else {
    w.Null();
  }
}

void WriteStats(CopyTextWriter& w, const store::BucketStats& s) {
  w.Int(s.n);
  w.Double(s.sum);
  OptionalDouble(w, s.avg());
  w.Double(s.min);
  w.Double(s.max);
  w.Double(s.last);
  w.Timestamp(s.last_ts);
  OptionalDouble(w, s.delta);
  OptionalInt(w, s.optimal_n);
  OptionalInt(w, s.critical_n);
  OptionalDouble(w, s.optimal_pct());
  OptionalDouble(w, s.critical_pct());
}

PgParam OptionalParam(const std::optional<double>& v) {
  return v ? PgParam(std::to_string(*v)) : PgParam();
}

}  // namespace

const char* ToString(UploadOutcome outcome) {
  switch (outcome) {
    case UploadOutcome::kOk:
      return "ok";
    case UploadOutcome::kRetry:
      return "retry";
    case UploadOutcome::kError:
      return "error";
  }
  return "error";
}

Uploader::Uploader(UploaderOptions options, ReadingOutbox& readings, BucketOutbox* buckets,
                   core::Clock& clock)
    : options_(std::move(options)),
      readings_(readings),
      buckets_(buckets),
      clock_(clock),
      sizer_(std::max<std::size_t>(1, options_.batch_size)) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

Uploader::~Uploader() = default;

void Uploader::Disconnect() { conn_.reset(); }

CycleReport Uploader::RunCycle(CycleScope scope) {
  CycleReport report;
  scope_ = scope;
  metrics_sent_ = false;
  transactions_ = 0;
  refused_.reset();
  core::Status done = RunCycleSteps(report);
  if (done && refused_) done = *refused_;
  if (!done) {
    report.outcome = OutcomeFor(done.error().code);
    report.code = done.error().code;
    report.message = done.error().message;
  }
  return report;
}

core::Status Uploader::EnsureConnected() {
  if (quoted_schema_.empty()) {
    auto quoted = QuoteSchemaName(options_.schema);
    if (!quoted) return quoted.error();
    quoted_schema_ = *quoted;
  }
  if (conn_ && conn_->connected()) return core::Ok();
  conn_.reset();
  auto conn = PgConnection::Connect(options_.url, options_.op_timeout_s);
  if (!conn) return conn.error();
  conn_ = std::move(*conn);
  return core::Ok();
}

core::Status Uploader::RunCycleSteps(CycleReport& report) {
  // Rows a failed delete left behind last cycle would otherwise be read and sent again.
  if (auto deleted = DeleteCommitted(); !deleted) return deleted;
  if (auto connected = EnsureConnected(); !connected) return connected;
  if (auto refreshed = RefreshState(); !refreshed) return refreshed;
  if (buckets_ != nullptr) {
    if (auto hourly = UploadHourly(report); !hourly) return hourly;
    if (auto daily = UploadDaily(report); !daily) return daily;
  }
  auto sent = UploadReadingBacklog(report);
  auto deleted = DeleteCommitted();
  if (!sent) return sent;
  if (!deleted) return deleted;
  if (transactions_ == 0) {
    auto touched = InTransaction(
        []() -> core::Expected<std::vector<PgStatement>> { return std::vector<PgStatement>{}; });
    if (!touched) return touched.error();
  }
  return core::Ok();
}

core::Status Uploader::RefreshState() {
  const auto now = std::chrono::steady_clock::now();
  if (state_read_at_ && now - *state_read_at_ < kStateRefresh) return core::Ok();
  auto state = readings_.State();
  if (!state) return state.error().Wrap("local store");
  state_ = *state;
  state_read_at_ = now;
  return core::Ok();
}

core::Status Uploader::OpenTransaction() {
  std::vector<PgStatement> opening = {{"BEGIN", {}}, ClaimGatewayStatement()};
  if (!metrics_sent_) {
    if (auto metrics = MetricsStatement()) opening.push_back(std::move(*metrics));
  }
  std::size_t failed = 0;
  const auto sent_at = std::chrono::steady_clock::now();
  auto opened = conn_->ExecPipeline(opening, &failed);
  if (!opened) {
    conn_->RollbackQuietly();
    if (failed == 2) return opened.error().Wrap("metrics upsert");
    return opened.error();
  }
  sizer_.RecordRoundTrip(std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - sent_at));
  if ((*opened)[1].rows() != 1) {
    // The WHERE on the claim's conflict branch left the row alone: another instance owns it.
    auto owner = RemoteGatewayOwner(*conn_, options_.schema, options_.gateway);
    conn_->RollbackQuietly();
    return OwnershipConflict(options_.gateway, owner && *owner ? **owner : "unknown");
  }
  return core::Ok();
}

core::Expected<std::vector<PgResult>> Uploader::CommitTransaction(
    std::vector<PgStatement> closing) {
  const std::size_t work = closing.size();
  closing.push_back({"COMMIT", {}});
  std::size_t failed = 0;
  auto done = conn_->ExecPipeline(closing, &failed);
  if (!done) {
    conn_->RollbackQuietly();
    return done.error();
  }
  ++transactions_;
  metrics_sent_ = true;
  done->resize(work);
  return done;
}

core::Expected<std::vector<PgResult>> Uploader::InTransaction(const TransactionBody& body) {
  if (auto opened = OpenTransaction(); !opened) return opened.error();
  auto closing = body();
  if (!closing) {
    conn_->RollbackQuietly();
    return closing.error();
  }
  return CommitTransaction(std::move(*closing));
}

PgStatement Uploader::ClaimGatewayStatement() const {
  // The WHERE on the conflict branch is the ownership rule: a row owned by another instance is
  // left alone and RETURNING yields nothing. The row lock also serialises two such gateways.
  return {"INSERT INTO " + quoted_schema_ +
              ".gateways AS g (gateway, instance_id, version, pending, oldest_pending, dropped, "
              "clock_synced, last_sync_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now()) "
              "ON CONFLICT (gateway) DO UPDATE SET instance_id = EXCLUDED.instance_id, "
              "version = EXCLUDED.version, pending = EXCLUDED.pending, "
              "oldest_pending = EXCLUDED.oldest_pending, dropped = EXCLUDED.dropped, "
              "clock_synced = EXCLUDED.clock_synced, last_sync_at = EXCLUDED.last_sync_at "
              "WHERE g.instance_id IS NULL OR g.instance_id = EXCLUDED.instance_id RETURNING 1",
          {options_.gateway, options_.instance_id, options_.version, std::to_string(state_.pending),
           state_.oldest_pending ? PgParam(core::FormatRfc3339(*state_.oldest_pending)) : PgParam(),
           std::to_string(state_.dropped), std::string(clock_.IsSynchronized() ? "t" : "f")}};
}

std::optional<PgStatement> Uploader::MetricsStatement() const {
  if (options_.metrics.empty()) return std::nullopt;
  std::string sql = "INSERT INTO " + quoted_schema_ +
                    ".metrics (gateway, metric, kind, unit, optimal_lo, optimal_hi, critical_lo, "
                    "critical_hi) VALUES ";
  std::vector<PgParam> params = {options_.gateway};
  bool first = true;
  for (const auto& [name, spec] : options_.metrics) {
    const std::size_t base = params.size();
    sql += first ? "(" : ", (";
    first = false;
    sql += "$1";
    for (std::size_t i = 1; i <= 7; ++i) sql += ", $" + std::to_string(base + i);
    sql += ")";
    const auto& p = spec.profile;
    params.push_back(name);
    params.push_back(std::string(spec.kind == core::MetricKind::kCounter ? "counter" : "gauge"));
    params.push_back(spec.unit.empty() ? PgParam() : PgParam(spec.unit));
    params.push_back(p ? OptionalParam(p->optimal_lo) : PgParam());
    params.push_back(p ? OptionalParam(p->optimal_hi) : PgParam());
    params.push_back(p ? OptionalParam(p->critical_lo) : PgParam());
    params.push_back(p ? OptionalParam(p->critical_hi) : PgParam());
  }
  sql +=
      " ON CONFLICT (gateway, metric) DO UPDATE SET kind = EXCLUDED.kind, unit = EXCLUDED.unit, "
      "optimal_lo = EXCLUDED.optimal_lo, optimal_hi = EXCLUDED.optimal_hi, "
      "critical_lo = EXCLUDED.critical_lo, critical_hi = EXCLUDED.critical_hi";
  return PgStatement{std::move(sql), std::move(params)};
}

core::Status Uploader::PutCopyChunks(const std::string& rows) {
  for (std::size_t at = 0; at < rows.size(); at += kCopyChunkBytes) {
    auto put = conn_->PutCopyData(std::string_view(rows).substr(at, kCopyChunkBytes));
    if (!put) return put;
  }
  return core::Ok();
}

core::Status Uploader::StreamCopy(const std::string& copy_sql, const std::string& rows) {
  if (auto begun = conn_->BeginCopy(copy_sql); !begun) return begun;
  if (auto put = PutCopyChunks(rows); !put) return put;
  auto ended = conn_->EndCopy();
  if (!ended) return ended.error();
  return core::Ok();
}

core::Status Uploader::UpsertBuckets(const std::string& table, const std::string& key_columns,
                                     const std::string& extra_updates, const CopyTextWriter& rows) {
  // The conflict key is (gateway, device, metric, <first key column>); further key columns
  // (daily's tz) are plain values that the update carries along.
  const std::string first_key = key_columns.substr(0, key_columns.find(','));
  const std::string cols =
      "gateway, device, metric, " + key_columns + ", " + std::string(kBucketStatColumns);
  const std::string stage = "fs_" + table + "_stage";
  auto sent = InTransaction([&]() -> core::Expected<std::vector<PgStatement>> {
    auto staged = conn_->Exec("CREATE TEMP TABLE " + stage + " (LIKE " + quoted_schema_ + "." +
                              table + ") ON COMMIT DROP");
    if (!staged) return staged.error();
    if (auto copied = StreamCopy("COPY " + stage + " (" + cols + ") FROM STDIN", rows.buffer());
        !copied) {
      return copied.error();
    }
    return std::vector<PgStatement>{
        {"INSERT INTO " + quoted_schema_ + "." + table + " (" + cols + ", updated_at) SELECT " +
             cols + ", now() FROM " + stage + " ON CONFLICT (gateway, device, metric, " +
             first_key + ") DO UPDATE SET " + extra_updates + std::string(kBucketStatUpdates),
         {}}};
  });
  if (!sent) return sent.error();
  return core::Ok();
}

core::Status Uploader::UploadHourly(CycleReport& report) {
  for (int round = 0; round < kMaxBucketRoundsPerCycle; ++round) {
    auto rows = buckets_->PendingHourly(options_.batch_size);
    if (!rows) return rows.error().Wrap("local aggregates");
    if (rows->empty()) return core::Ok();
    CopyTextWriter w;
    for (const auto& row : *rows) {
      w.Text(options_.gateway);
      w.Text(row.device);
      w.Text(row.metric);
      w.Timestamp(row.bucket);
      WriteStats(w, row.stats);
      w.EndRow();
    }
    if (auto sent = UpsertBuckets("hourly", "bucket", "", w); !sent) return sent;
    if (auto marked = buckets_->MarkUploaded(*rows); !marked) return marked;
    report.hourly += static_cast<std::int64_t>(rows->size());
    if (rows->size() < options_.batch_size) return core::Ok();
  }
  return core::Ok();
}

core::Status Uploader::UploadDaily(CycleReport& report) {
  for (int round = 0; round < kMaxBucketRoundsPerCycle; ++round) {
    auto rows = buckets_->PendingDaily(options_.batch_size);
    if (!rows) return rows.error().Wrap("local aggregates");
    if (rows->empty()) return core::Ok();
    CopyTextWriter w;
    for (const auto& row : *rows) {
      w.Text(options_.gateway);
      w.Text(row.device);
      w.Text(row.metric);
      w.Text(core::FormatIsoDate(row.day));
      w.Text(row.tz);
      WriteStats(w, row.stats);
      w.EndRow();
    }
    if (auto sent = UpsertBuckets("daily", "day, tz", "tz = EXCLUDED.tz, ", w); !sent) return sent;
    if (auto marked = buckets_->MarkUploaded(*rows); !marked) return marked;
    report.daily += static_cast<std::int64_t>(rows->size());
    if (rows->size() < options_.batch_size) return core::Ok();
  }
  return core::Ok();
}

}  // namespace fieldsync::sync
