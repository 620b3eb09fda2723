#include "sync/transfer_copy.hpp"

#include <charconv>

namespace fieldsync::sync {
namespace {

constexpr size_t kSendChunkBytes = 256 * 1024;

std::int64_t ToInt(std::string_view text) {
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

// One table's copy on the target side: a staging COPY per batch, merged and committed.
class BatchWriter {
 public:
  BatchWriter(PgConnection& target, const TablePlan& plan, TableCounts& counts)
      : target_(target), plan_(plan), counts_(counts) {
    chunk_.reserve(kSendChunkBytes + 4096);
  }

  core::Status Add(std::string_view row) {
    if (!open_) {
      if (auto begun = target_.Exec("BEGIN"); !begun) return begun.error();
      if (auto copy = target_.BeginCopy(RenderStageCopyIn(plan_)); !copy) return copy;
      open_ = true;
    }
    chunk_.append(row);
    ++rows_;
    if (chunk_.size() >= kSendChunkBytes) return Send();
    return core::Ok();
  }

  std::int64_t rows_in_batch() const { return rows_; }

  // Ends the staging COPY, merges the stage into the table and commits.
  core::Status Commit() {
    if (!open_) return core::Ok();
    if (auto sent = Send(); !sent) return sent;
    if (auto ended = target_.EndCopy(); !ended) return ended.error();
    auto merged = target_.Exec(RenderMerge(plan_));
    if (!merged) return merged.error();
    const std::int64_t inserted = ToInt(merged->Value(0, 0));
    const std::int64_t updated = ToInt(merged->Value(0, 1));
    if (auto committed = target_.Exec("COMMIT"); !committed) return committed.error();
    counts_.inserted += inserted;
    counts_.updated += updated;
    counts_.skipped += rows_ - inserted - updated;
    open_ = false;
    rows_ = 0;
    return core::Ok();
  }

  void Abandon() {
    if (open_) target_.Close();  // mid-COPY: dropping the link rolls the batch back
  }

 private:
  core::Status Send() {
    if (chunk_.empty()) return core::Ok();
    auto sent = target_.PutCopyData(chunk_);
    chunk_.clear();
    return sent;
  }

  PgConnection& target_;
  const TablePlan& plan_;
  TableCounts& counts_;
  std::string chunk_;
  bool open_ = false;
  std::int64_t rows_ = 0;
};

core::Error Side(const core::Error& error, const std::string& side, const TablePlan& plan) {
  return error.Wrap(side + ": " + plan.label);
}

}  // namespace

core::Expected<TableCounts> CountTable(PgConnection& source, const TablePlan& plan) {
  TableCounts counts{plan.label};
  auto counted = source.Exec(RenderCount(plan));
  if (!counted) return Side(counted.error(), "source", plan);
  counts.fetched = ToInt(counted->Value(0, 0));
  return counts;
}

core::Expected<TableCounts> CopyTable(PgConnection& source, PgConnection& target,
                                      const TablePlan& plan, std::int64_t batch_size,
                                      TransferProgress& progress, const SecondsClock& now) {
  // The exact count in the same snapshot: the ETA's denominator.
  auto total = CountTable(source, plan);
  if (!total) return total.error();
  progress.StartTable(plan.label, total->fetched, now());

  if (auto staged = target.Exec(RenderCreateStage(plan)); !staged) {
    return Side(staged.error(), "target", plan);
  }
  if (auto copy = source.BeginCopyOut(RenderCopyOut(plan)); !copy) {
    return Side(copy.error(), "source", plan);
  }
  TableCounts counts{plan.label};
  BatchWriter writer(target, plan, counts);
  while (true) {
    auto row = source.GetCopyRow();
    if (!row) {
      writer.Abandon();
      return Side(row.error(), "source", plan);
    }
    if (!*row) break;
    ++counts.fetched;
    core::Status written = writer.Add(**row);
    if (written && writer.rows_in_batch() >= batch_size) written = writer.Commit();
    if ((counts.fetched & 4095) == 0) progress.Advance(counts.fetched, now());
    if (!written) {
      writer.Abandon();
      target.RollbackQuietly();
      return Side(written.error(), "target", plan);
    }
  }
  if (auto last = writer.Commit(); !last) {
    target.RollbackQuietly();
    return Side(last.error(), "target", plan);
  }
  if (auto dropped = target.Exec(std::string("DROP TABLE IF EXISTS ") + kStageTable); !dropped) {
    return Side(dropped.error(), "target", plan);
  }
  progress.FinishTable(counts.fetched, now());
  return counts;
}

}  // namespace fieldsync::sync
