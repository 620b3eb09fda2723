#include "sync/transfer_progress.hpp"

#include <cmath>

namespace fieldsync::sync {

std::string FormatProgress(const std::string& label, std::int64_t done, std::int64_t total,
                           double elapsed_s) {
  std::string line = label + ": " + std::to_string(done);
  if (total >= 0) {
    line += "/" + std::to_string(total) + " rows";
    const std::int64_t pct = total > 0 ? done * 100 / total : 100;
    line += " (" + std::to_string(pct) + "%)";
  } else {
    line += " rows";
  }
  if (elapsed_s > 0) {
    const double rate = static_cast<double>(done) / elapsed_s;
    line += ", " + std::to_string(std::llround(rate)) + " rows/s";
    if (total >= 0 && rate > 0 && done < total) {
      const double eta = static_cast<double>(total - done) / rate;
      line += ", ETA " + std::to_string(std::llround(std::ceil(eta))) + " s";
    }
  }
  return line;
}

TransferProgress::TransferProgress(std::ostream& out, bool terminal, double log_interval_s)
    : out_(out), terminal_(terminal), interval_s_(terminal ? 0.2 : log_interval_s) {}

void TransferProgress::StartTable(const std::string& label, std::int64_t total, double now_s) {
  label_ = label;
  total_ = total;
  started_s_ = now_s;
  last_line_s_ = now_s;
}

void TransferProgress::Advance(std::int64_t done, double now_s) {
  if (now_s - last_line_s_ < interval_s_) return;
  last_line_s_ = now_s;
  const std::string line = FormatProgress(label_, done, total_, now_s - started_s_);
  if (terminal_) {
    out_ << "\r\033[K" << line << std::flush;
  } else {
    out_ << "fieldsync: transfer " << line << "\n" << std::flush;
  }
}

void TransferProgress::FinishTable(std::int64_t done, double now_s) {
  const std::string line = FormatProgress(label_, done, total_, now_s - started_s_);
  if (terminal_) {
    out_ << "\r\033[K" << line << "\n" << std::flush;
  } else {
    out_ << "fieldsync: transfer " << line << "\n" << std::flush;
  }
}

}  // namespace fieldsync::sync
