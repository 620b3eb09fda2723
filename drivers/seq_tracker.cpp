#include "drivers/seq_tracker.hpp"

namespace fieldsync::drivers {

SeqTracker::SeqTracker(size_t max_devices) : max_devices_(max_devices == 0 ? 1 : max_devices) {}

void SeqTracker::StartRun(Run& run, std::uint32_t seq) {
  run.base = seq;
  run.head = seq;
  run.seen.reset();
  run.seen.set(seq % kSeqWindow);
}

bool SeqTracker::InWindow(const Run& run, std::uint32_t seq) {
  return seq >= run.base && seq <= run.head && run.head - seq < kSeqWindow;
}

SeqObservation SeqTracker::Observe(std::string_view device, std::uint32_t seq) {
  ++tick_;
  auto it = devices_.find(std::string(device));
  if (it == devices_.end()) {
    if (devices_.size() >= max_devices_) EvictOldest();
    Run run;
    StartRun(run, seq);
    run.last_used = tick_;
    devices_.emplace(std::string(device), run);
    return {SeqVerdict::kNew, 0};
  }
  Run& run = it->second;
  run.last_used = tick_;

  if (seq > run.head) {
    std::uint32_t missing = seq - run.head - 1;
    if (missing > kMaxCountedGap) {
      StartRun(run, seq);
      return {SeqVerdict::kNew, 0};
    }
    // Clear the bits of the seqs the window slides over: (head, seq].
    if (seq - run.head >= kSeqWindow) {
      run.seen.reset();
    } else {
      for (std::uint32_t s = run.head + 1; s != seq; ++s) run.seen.reset(s % kSeqWindow);
    }
    run.seen.set(seq % kSeqWindow);
    run.head = seq;
    return {SeqVerdict::kNew, missing};
  }
  if (InWindow(run, seq) && run.seen.test(seq % kSeqWindow)) {
    if (seq == 0 && run.head > 0) {
      StartRun(run, seq);
      return {SeqVerdict::kRestart, 0};
    }
    return {SeqVerdict::kDuplicate, 0};
  }
  if (InWindow(run, seq) && seq != 0) {
    run.seen.set(seq % kSeqWindow);
    return {SeqVerdict::kLate, 0};
  }
  StartRun(run, seq);
  return {SeqVerdict::kRestart, 0};
}

void SeqTracker::Forget(std::string_view device) { devices_.erase(std::string(device)); }

void SeqTracker::ForgetAll() { devices_.clear(); }

void SeqTracker::EvictOldest() {
  auto oldest = devices_.begin();
  for (auto it = devices_.begin(); it != devices_.end(); ++it) {
    if (it->second.last_used < oldest->second.last_used) oldest = it;
  }
  if (oldest != devices_.end()) devices_.erase(oldest);
}

}  // namespace fieldsync::drivers
