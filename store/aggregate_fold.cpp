// AggregateStore as the store's OutboxObserver: folding stored readings into their buckets in
// batches (agg_fold marks how far).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/aggregate_schema.hpp"
#include "store/aggregate_store.hpp"

namespace fieldsync::store {
namespace {

// Readings read from the outbox per ApplyPoints call: bounds the memory of a long fold (a
// store that was offline for weeks) while keeping the per-bucket upserts rare.
constexpr std::int64_t kFoldChunk = 16384;

// What folding one reading may write, generously: its share of the bucket rows, of the kept
// keys pruned and of the keys set aside (late readings).
constexpr std::int64_t kFoldBytesPerReading = 64;
// A commit's fold covers at least this many readings however little room there is.
constexpr std::int64_t kMinFoldReadings = 64;

core::Expected<std::int64_t> FoldedThrough(Database& db) {
  auto through = db.QueryInt64("SELECT through FROM agg_fold WHERE id = 0");
  if (!through) return through.error().Wrap("read how far the aggregates are folded");
  return through->value_or(0);
}

core::Status SetFoldedThrough(Database& db, std::int64_t through) {
  auto stmt = db.Cached("UPDATE agg_fold SET through = ?1 WHERE id = 0");
  if (!stmt) return stmt.error();
  if (auto s = (*stmt)->Bind(1, through); !s) return s;
  return (*stmt)->Run();
}

}  // namespace

core::Expected<AggregateStore::FoldCounts> AggregateStore::FoldThrough(std::int64_t through,
                                                                       std::int64_t max_ids) {
  auto from = FoldedThrough(*db_);
  if (!from) return from.error();
  auto newest = db_->QueryInt64("SELECT max(id) FROM readings");
  if (!newest) return newest.error();
  const std::int64_t reachable = std::min(through, newest->value_or(0));
  const std::int64_t target =
      *from > reachable - max_ids ? reachable : *from + max_ids;  // no overflow at INT64_MAX
  if (target <= *from) return FoldCounts{};

  std::int64_t folded = 0;
  std::int64_t after = *from;
  std::vector<SeriesPoint> points;
  while (after < target) {
    points.clear();
    std::int64_t last = target;
    {
      // Held readings (ts_source 3) are skipped: they reach the aggregates when released.
      auto rows = db_->Cached(
          "SELECT id, series_id, ts, value, ts_source FROM readings "
          "WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3");
      if (!rows) return rows.error();
      if (auto s = (*rows)->Bind(1, after); !s) return s.error();
      if (auto s = (*rows)->Bind(2, target); !s) return s.error();
      if (auto s = (*rows)->Bind(3, kFoldChunk); !s) return s.error();
      std::int64_t read = 0;
      while (true) {
        auto row = (*rows)->Step();
        if (!row) return row.error().Wrap("read readings to aggregate");
        if (!*row) break;
        ++read;
        last = (*rows)->ColumnInt64(0);
        if ((*rows)->ColumnInt64(4) == 3) continue;
        points.push_back(SeriesPoint{(*rows)->ColumnInt64(1), (*rows)->ColumnInt64(2),
                                     (*rows)->ColumnDouble(3), last, false});
      }
      if (read < kFoldChunk) last = target;
    }
    auto applied = ApplyPoints(points, last + 1);
    if (!applied) return applied.error();
    folded += static_cast<std::int64_t>(points.size());
    after = last;
  }
  if (auto s = SetFoldedThrough(*db_, target); !s) return s.error();
  return FoldCounts{folded, target == reachable};
}

void AggregateStore::NoteFolded() {
  unfolded_ = 0;
  last_fold_ = std::chrono::steady_clock::now();
}

core::Expected<std::optional<Transaction>> AggregateStore::BeginFolded(std::int64_t* folded) {
  std::optional<Transaction> tx;
  if (db_->autocommit()) {
    auto begun = Transaction::Begin(*db_);
    if (!begun) return begun.error();
    tx.emplace(std::move(*begun));
  }
  auto n = FoldThrough(INT64_MAX);
  if (!n) return n.error().Wrap("aggregate stored readings");
  if (folded != nullptr) *folded = n->folded;
  return tx;
}

core::Expected<std::int64_t> AggregateStore::FoldAll() {
  std::int64_t folded = 0;
  auto tx = BeginFolded(&folded);
  if (!tx) return tx.error();
  if (*tx) {
    if (auto s = (*tx)->Commit(); !s) return s.error().Wrap("aggregate stored readings");
  }
  NoteFolded();
  return folded;
}

core::Expected<std::int64_t> AggregateStore::UnfoldedCount() {
  auto n = db_->QueryInt64(
      "SELECT count(*) FROM readings WHERE id > (SELECT through FROM agg_fold WHERE id = 0) "
      "AND ts_source <> 3");
  if (!n) return n.error();
  return n->value_or(0);
}

core::Status AggregateStore::Stored(Database&, std::size_t count, std::int64_t room_bytes) {
  unfolded_ += count;
  if (unfolded_ == 0) return core::Ok();
  if (unfolded_ < kFoldReadings && std::chrono::steady_clock::now() - last_fold_ < kFoldInterval) {
    return core::Ok();
  }
  // On a small or nearly full disk the room is small: the fold goes on over the next commits
  // (the schedule stays due until it is complete).
  const std::int64_t max_ids = std::max(kMinFoldReadings, room_bytes / kFoldBytesPerReading);
  auto folded = FoldThrough(INT64_MAX, max_ids);
  if (!folded) return folded.error();
  if (folded->complete) NoteFolded();
  return core::Ok();
}

core::Status AggregateStore::Settle(Database&, std::int64_t through) {
  auto folded = FoldThrough(through);
  if (!folded) return folded.error();
  return core::Ok();
}

core::Status AggregateStore::Removed(Database&, const std::vector<RemovedReading>& removed) {
  auto through = FoldedThrough(*db_);
  if (!through) return through.error();
  // agg_removed: how many readings of each series and quarter hour are no longer local.
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> quarters;
  std::unordered_map<std::int64_t, std::optional<core::TimeUs>> anchors;
  auto forget = db_->Cached(
      "DELETE FROM reading_keys WHERE ts = ?2 AND series_id = ?1 AND reading_id = ?3 AND "
      "(aside <> 0 OR ?4 = 0)");
  if (!forget) return forget.error();
  for (const RemovedReading& r : removed) {
    if (!r.held && r.id > *through) {
      return core::MakeError(
          core::Errc::kInternal,
          "reading " + std::to_string(r.id) + " would leave the store before it is aggregated");
    }
    ++quarters[{r.series_id, r.ts / kRemovalQuarterUs}];
    auto [anchor, fresh] = anchors.try_emplace(r.series_id);
    if (fresh) {
      auto stmt = db_->Cached("SELECT anchor_ts FROM agg_newest WHERE series_id = ?1");
      if (!stmt) return stmt.error();
      if (auto s = (*stmt)->Bind(1, r.series_id); !s) return s;
      auto row = (*stmt)->Step();
      if (!row) return row.error();
      if (*row && !(*stmt)->ColumnIsNull(0)) anchor->second = (*stmt)->ColumnInt64(0);
    }
    // The window keeps the key of a folded window reading at or above its series' anchor (a
    // series without one keeps every such key until its first fold sets it), untouched; any
    // other key goes with its reading.
    const bool in_window = !anchor->second || r.ts >= *anchor->second;
    if (auto s = (*forget)->Run({r.series_id, r.ts, r.id, in_window ? 1 : 0}); !s) return s;
  }
  for (const auto& [key, n] : quarters) {
    core::Status s = db_->Run(
        "INSERT INTO agg_removed(series_id, quarter, n) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(series_id, quarter) DO UPDATE SET n = n + excluded.n",
        {key.first, key.second, n});
    if (!s) return s;
  }
  return core::Ok();
}

core::Status AggregateStore::Released(Database&, const std::vector<core::Reading>& released) {
  auto applied = Apply(released);
  if (!applied) return applied.error();
  return core::Ok();
}

core::Status AggregateStore::Restored(Database&) {
  return db_->Exec(
      "UPDATE agg_fold SET through = max(through, (SELECT coalesce(max(id), 0) FROM readings)) "
      "WHERE id = 0");
}

core::Expected<std::int64_t> AggregateStore::IdFloor(Database&) { return FoldedThrough(*db_); }

}  // namespace fieldsync::store
