#pragma once
// StoreSink: a FrameSink for the input tests, on the real store: every Submit is committed at once
// in its own transaction (no grouping), so `done` reports exactly what Store::Commit said.
// Rejections and connection changes are recorded for assertions. Loop thread only, like the
// agent's sink; the read accessors lock so that a test thread may poll them.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/frame_sink.hpp"
#include "store/store.hpp"

namespace fieldsync::testing {

class StoreSink final : public drivers::FrameSink {
 public:
  explicit StoreSink(store::Store& store) : store_(store) {}

  void Submit(const std::string& input, drivers::DecodedFrame frame, drivers::SubmitDone done,
              bool durable_now) override;
  void Reject(const std::string& input, const drivers::FrameRejection& rejection) override;
  void CountSeq(const std::string&, std::int64_t, std::int64_t) override {}
  void SetConnected(const std::string& input, bool connected) override;

  // Makes the next `n` submissions answer kRefusedFull without touching the store.
  void RefuseNext(int n);

  std::int64_t submitted() const;  // Submit calls that reached the store and were durable
  std::int64_t refused() const;    // Submit calls answered kRefusedFull or kFailed
  std::int64_t rejected(core::RejectReason reason) const;
  std::int64_t durable_now_calls() const;
  bool connected(const std::string& input) const;

 private:
  store::Store& store_;
  mutable std::mutex mu_;
  int refuse_next_ = 0;
  std::int64_t submitted_ = 0;
  std::int64_t refused_ = 0;
  std::int64_t durable_now_ = 0;
  std::map<core::RejectReason, std::int64_t> rejected_;
  std::map<std::string, bool> connected_;
};

// All readings of the store, read back through OldestPending (test sizes only).
std::vector<core::Reading> AllPending(store::Store& store);

}  // namespace fieldsync::testing
