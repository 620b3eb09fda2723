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

// One element of a PostgreSQL array literal, always double-quoted.
std::string ArrayElement(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
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
    : options_(std::move(options)), readings_(readings), buckets_(buckets), clock_(clock) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

Uploader::~Uploader() = default;

void Uploader::Disconnect() { conn_.reset(); }

CycleReport Uploader::RunCycle() {
  CycleReport report;
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
  if (auto connected = EnsureConnected(); !connected) return connected;
  if (auto refreshed = RefreshState(); !refreshed) return refreshed;
  if (buckets_ != nullptr) {
    if (auto hourly = UploadHourly(report); !hourly) return hourly;
    if (auto daily = UploadDaily(report); !daily) return daily;
  }
  auto batch = readings_.OldestPending(options_.batch_size);
  if (!batch) return batch.error().Wrap("local store");
  report.batch_rows = static_cast<std::int64_t>(batch->ids.size());
  report.more_pending = batch->ids.size() >= options_.batch_size;
  if (!batch->ids.empty()) return UploadReadings(*batch, 0, batch->ids.size(), report);
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

template <class Body>
core::Expected<std::vector<PgResult>> Uploader::InTransaction(Body body) {
  std::vector<PgStatement> opening = {{"BEGIN", {}}, ClaimGatewayStatement()};
  if (!metrics_sent_) {
    if (auto metrics = MetricsStatement()) opening.push_back(std::move(*metrics));
  }
  std::size_t failed = 0;
  auto opened = conn_->ExecPipeline(opening, &failed);
  if (!opened) {
    conn_->RollbackQuietly();
    if (failed == 2) return opened.error().Wrap("metrics upsert");
    return opened.error();
  }
  if ((*opened)[1].rows() != 1) {
    // The WHERE on the claim's conflict branch left the row alone: another instance owns it.
    auto owner = RemoteGatewayOwner(*conn_, options_.schema, options_.gateway);
    conn_->RollbackQuietly();
    return OwnershipConflict(options_.gateway, owner && *owner ? **owner : "unknown");
  }
  auto closing = body();
  if (!closing) {
    conn_->RollbackQuietly();
    return closing.error();
  }
  const std::size_t work = closing->size();
  closing->push_back({"COMMIT", {}});
  auto done = conn_->ExecPipeline(*closing, &failed);
  if (!done) {
    conn_->RollbackQuietly();
    return done.error();
  }
  ++transactions_;
  metrics_sent_ = true;
  done->resize(work);
  return done;
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

core::Status Uploader::StreamCopy(const std::string& copy_sql, const std::string& rows) {
  if (auto begun = conn_->BeginCopy(copy_sql); !begun) return begun;
  for (std::size_t at = 0; at < rows.size(); at += kCopyChunkBytes) {
    auto put = conn_->PutCopyData(std::string_view(rows).substr(at, kCopyChunkBytes));
    if (!put) return put;
  }
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

std::string Uploader::EncodeReadings(const store::UploadBatch& batch, std::size_t begin,
                                     std::size_t end) const {
  CopyTextWriter w;
  for (std::size_t i = begin; i < end; ++i) {
    const core::Reading& r = batch.readings[i];
    w.Text(options_.gateway);
    w.Text(r.device);
    w.Text(r.metric);
    w.Timestamp(r.ts);
    w.Double(r.value);
    w.Text(core::ToString(r.ts_source));
    if (i < batch.received_at.size()) {
      w.Timestamp(batch.received_at[i]);
    } else {
      w.Null();
    }
    w.EndRow();
  }
  return w.buffer();
}

PgStatement Uploader::DevicesStatement(const store::UploadBatch& batch, std::size_t begin,
                                       std::size_t end) const {
  // First and last seen per device, computed here: the batch is in memory anyway, and the
  // server then needs neither a staging table nor a GROUP BY on the direct path.
  std::map<std::string, std::pair<core::TimeUs, core::TimeUs>> seen;
  for (std::size_t i = begin; i < end; ++i) {
    const core::Reading& r = batch.readings[i];
    auto [it, fresh] = seen.try_emplace(r.device, r.ts, r.ts);
    if (!fresh) {
      it->second.first = std::min(it->second.first, r.ts);
      it->second.second = std::max(it->second.second, r.ts);
    }
  }
  std::string devices = "{", first = "{", last = "{";
  for (const auto& [device, range] : seen) {
    const char* sep = devices.size() > 1 ? "," : "";
    devices += sep + ArrayElement(device);
    first += sep + ArrayElement(core::FormatRfc3339(range.first));
    last += sep + ArrayElement(core::FormatRfc3339(range.second));
  }
  devices += "}";
  first += "}";
  last += "}";
  return {"INSERT INTO " + quoted_schema_ +
              ".devices AS d (gateway, device, first_seen, last_seen) "
              "SELECT $1, t.device, t.first_seen, t.last_seen "
              "FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) "
              "AS t(device, first_seen, last_seen) "
              "ON CONFLICT (gateway, device) DO UPDATE SET "
              "first_seen = LEAST(d.first_seen, EXCLUDED.first_seen), "
              "last_seen = GREATEST(d.last_seen, EXCLUDED.last_seen)",
          {options_.gateway, devices, first, last}};
}

core::Expected<std::int64_t> Uploader::SendReadings(const store::UploadBatch& batch,
                                                    std::size_t begin, std::size_t end) {
  const std::string rows = EncodeReadings(batch, begin, end);
  const std::string columns = "(gateway, device, metric, ts, value, ts_source, received_at)";
  // Fast path: COPY straight into readings; the devices upsert then travels with COMMIT. A
  // resent row makes the COPY fail with a unique violation (kConflict), and then the staged
  // path below absorbs the duplicates.
  auto direct = InTransaction([&]() -> core::Expected<std::vector<PgStatement>> {
    if (auto copied =
            StreamCopy("COPY " + quoted_schema_ + ".readings " + columns + " FROM STDIN", rows);
        !copied) {
      return copied.error();
    }
    return std::vector<PgStatement>{DevicesStatement(batch, begin, end)};
  });
  if (direct) return static_cast<std::int64_t>(end - begin);
  if (direct.error().code != Errc::kConflict) return direct.error();

  auto staged = InTransaction([&]() -> core::Expected<std::vector<PgStatement>> {
    auto created = conn_->Exec("CREATE TEMP TABLE fs_readings_stage (LIKE " + quoted_schema_ +
                               ".readings) ON COMMIT DROP");
    if (!created) return created.error();
    if (auto copied = StreamCopy("COPY fs_readings_stage " + columns + " FROM STDIN", rows);
        !copied) {
      return copied.error();
    }
    return std::vector<PgStatement>{
        {"INSERT INTO " + quoted_schema_ + ".readings " + columns +
             " SELECT gateway, device, metric, ts, value, ts_source, received_at "
             "FROM fs_readings_stage ON CONFLICT DO NOTHING",
         {}},
        DevicesStatement(batch, begin, end)};
  });
  if (!staged) return staged.error();
  return (*staged)[0].AffectedRows();
}

core::Status Uploader::UploadReadings(const store::UploadBatch& batch, std::size_t begin,
                                      std::size_t end, CycleReport& report) {
  auto inserted = SendReadings(batch, begin, end);
  const std::vector<std::int64_t> ids(batch.ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                      batch.ids.begin() + static_cast<std::ptrdiff_t>(end));
  if (inserted) {
    // Invariant: a row leaves the outbox only after the remote COMMIT returned (just now).
    if (auto deleted = readings_.DeleteUploaded(ids); !deleted) {
      return deleted.error().Wrap(
          "uploaded, but the local delete failed (the rows will be resent and skipped)");
    }
    state_.pending =
        std::max<std::int64_t>(0, state_.pending - static_cast<std::int64_t>(ids.size()));
    report.inserted += *inserted;
    report.skipped += static_cast<std::int64_t>(end - begin) - *inserted;
    return core::Ok();
  }
  if (inserted.error().code != Errc::kRemoteData) return inserted.error();
  if (end - begin == 1) {
    const core::Reading& r = batch.readings[begin];
    const std::string reason = inserted.error().message;
    auto moved = readings_.Quarantine(ids, reason);
    if (!moved) {
      // The row stays pending; the rest of the batch still goes, and the cycle reports it.
      if (!refused_) {
        refused_ = MakeError(moved.error().code, "the server refused reading (" + r.device + ", " +
                                                     r.metric + ", " + core::FormatRfc3339(r.ts) +
                                                     "): " + reason + "; " + moved.error().message);
      }
      return core::Ok();
    }
    ++report.quarantined;
    return core::Ok();
  }
  // Bisect: the halves go in their own transactions until the refused rows stand alone.
  const std::size_t mid = begin + (end - begin) / 2;
  if (auto left = UploadReadings(batch, begin, mid, report); !left) return left;
  return UploadReadings(batch, mid, end, report);
}

}  // namespace fieldsync::sync
