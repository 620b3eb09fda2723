#pragma once
// Progress of a transfer: rows, rate and ETA. On a terminal one line redrawn in place a few
// times a second; otherwise (a log, the journal) one line every `log_interval_s` seconds.
// Time is passed in by the caller, so the pacing is plain logic.
//
// Not thread-safe; the copying thread owns it.

#include <cstdint>
#include <ostream>
#include <string>

namespace fieldsync::sync {

// "readings: 120000/1000000 rows (12%), 85000 rows/s, ETA 10 s". `total` < 0 means unknown
// (no percentage, no ETA); the rate is omitted before any time has passed.
std::string FormatProgress(const std::string& label, std::int64_t done, std::int64_t total,
                           double elapsed_s);

class TransferProgress {
 public:
  // `out` must outlive this object. `terminal`: redraw in place with '\r'.
  TransferProgress(std::ostream& out, bool terminal, double log_interval_s = 10.0);

  void StartTable(const std::string& label, std::int64_t total, double now_s);
  // `done` rows so far; writes a line when one is due.
  void Advance(std::int64_t done, double now_s);
  // Writes the final line of the table (on a terminal, ends the redrawn line).
  void FinishTable(std::int64_t done, double now_s);

 private:
  std::ostream& out_;
  bool terminal_;
  double interval_s_;
  std::string label_;
  std::int64_t total_ = -1;
  double started_s_ = 0;
  double last_line_s_ = 0;
};

}  // namespace fieldsync::sync
