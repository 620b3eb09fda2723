#pragma once
// The seq window kept in the store (§2): which `seq` each (input, device) has had stored lately,
// so that a frame the firmware resends after an agent restart (same seq, no ts, so a new agent
// stamp) is recognised as the duplicate it is.
//
// Table seq_log (schema version 4): one row per stored frame that carried a tracked seq, written
// by Store::Commit in the frame's own savepoint (IngestFrame::seq), so a row exists exactly when
// the frame is durable. Per (input, device) only the newest kSeqLogDepth rows are kept: as many
// as the in-memory tracker's window (drivers::kSeqWindow), so replaying them in order rebuilds
// the tracker as it was. Callers hold the store's one-writer rule; not thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.hpp"

namespace fieldsync::store {

class Database;
class Store;

inline constexpr std::int64_t kSeqLogDepth = 1024;

struct SeqRecord {
  std::string device;
  std::uint32_t seq = 0;
};

// Appends (input, device, seq) and trims that stream to its newest kSeqLogDepth rows. Runs in
// the caller's transaction.
core::Status RecordFrameSeq(Database& db, const std::string& input, const std::string& device,
                            std::uint32_t seq);

// The rows kept for `input`, oldest first (the order they were stored in).
core::Expected<std::vector<SeqRecord>> RecentFrameSeqs(Store& store, const std::string& input);

}  // namespace fieldsync::store
