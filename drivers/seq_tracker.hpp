#pragma once
// SeqTracker: classifies the `seq` of each frame of one input, per device (§2).
//
// Per device it keeps `head` (the highest seq since the counter's last restart), `base` (the
// first seq of that run) and which of the kSeqWindow seqs up to head were seen. For a frame's seq
// s:
//   - first frame of the device (or after Forget)           -> kNew, base = head = s
//   - s > head: kNew. missing = s - head - 1; if missing <= kMaxCountedGap it is frames_lost,
//     else the counter jumped (nothing counted lost) and s starts a new run (base = head = s)
//   - s was seen, within the window and s >= base           -> kDuplicate (a resend)
//   - s == 0 and head > 0                                    -> kRestart (see below)
//   - base <= s < head, within the window, not yet seen      -> kLate: a frame that arrives after
//     later ones (a resend of one refused for its checksum); it was already counted in
//     frames_lost when the gap was seen, so a caller may subtract one
//   - otherwise (s < base, or further back than the window) -> kRestart: base = head = s
// Firmware counters start at 0 after a reset, so a 0 after anything else is a restart even when
// 0 is still in the window: mistaking a resend of frame 0 for a restart admits one duplicate
// frame, while the opposite would drop everything a board sends after it resets until its counter
// passes the old one. The serial input keeps its tracker across port reopens and primes it from
// the store after a restart (replaying stored seqs through Observe rebuilds the same state), so a
// board that did not reset and resends an unacknowledged frame still gets a duplicate; one that
// did reset starts again at 0. The counter wrapping from 4294967295 to 0 counts as a restart
// (nothing lost).
//
// Memory is bounded: kSeqWindow bits per device and at most max_devices devices (the one seen
// longest ago is forgotten first). Not thread-safe.

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fieldsync::drivers {

inline constexpr std::uint32_t kSeqWindow = 1024;
inline constexpr std::uint32_t kMaxCountedGap = 1000;

// One frame's seq as it was stored, for rebuilding a tracker after a restart.
struct StoredSeq {
  std::string device;
  std::uint32_t seq = 0;
};

enum class SeqVerdict : unsigned char { kNew, kLate, kDuplicate, kRestart };

struct SeqObservation {
  SeqVerdict verdict = SeqVerdict::kNew;
  std::uint32_t frames_lost = 0;  // frames skipped just before this one (kNew only)
};

class SeqTracker {
 public:
  explicit SeqTracker(size_t max_devices = 4096);

  // Classifies `seq` for `device` and records it (a duplicate changes nothing).
  SeqObservation Observe(std::string_view device, std::uint32_t seq);

  // Forgets a device's counter (its next seq starts a new run), or every device's.
  void Forget(std::string_view device);
  void ForgetAll();

  size_t device_count() const { return devices_.size(); }

 private:
  struct Run {
    std::uint32_t base = 0;
    std::uint32_t head = 0;
    std::bitset<kSeqWindow> seen;  // bit (s % kSeqWindow) for s in (head - kSeqWindow, head]
    std::uint64_t last_used = 0;
  };

  static void StartRun(Run& run, std::uint32_t seq);
  static bool InWindow(const Run& run, std::uint32_t seq);
  void EvictOldest();

  size_t max_devices_;
  std::uint64_t tick_ = 0;
  std::unordered_map<std::string, Run> devices_;
};

}  // namespace fieldsync::drivers
