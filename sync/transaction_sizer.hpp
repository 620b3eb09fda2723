#pragma once
// TransactionSizer: how many local batches one remote transaction of readings carries.
//
// A transaction costs three round trips besides its data (BEGIN with the COPY, the end of the
// COPY, the devices upsert with COMMIT) and the server's COMMIT (a WAL flush). Over a link with
// 50 ms of round trip a 5,000-row batch would spend most of its time waiting, and even on
// loopback a backlog drained one batch per transaction waits for a COMMIT every few
// milliseconds. So a transaction takes another batch while the time spent streaming is short
// next to its round trips (kStreamPerRoundTrip of them) or below kMinStreaming (for at most
// kMinStreamingBatches batches: a small batch_size still means small transactions), up to
// kMaxBatches batches, kMaxRows rows and kMaxStreaming of streaming, so a transaction never
// grows without bound (its ids wait in memory for its COMMIT, as runs: id_runs.hpp). The round trip
// is a smoothed measurement of the transaction starts.
//
// Pure logic, no I/O; not thread-safe.

#include <chrono>
#include <cstddef>
#include <optional>

namespace fieldsync::sync {

class TransactionSizer {
 public:
  static constexpr int kRoundTripsPerTransaction = 3;
  static constexpr int kStreamPerRoundTrip = 16;  // overhead at most 1/17 of a transaction
  static constexpr std::size_t kMaxBatches = 256;
  static constexpr std::size_t kMaxRows = 1024 * 1024;
  static constexpr std::chrono::milliseconds kMinStreaming{200};
  static constexpr std::size_t kMinStreamingBatches = 8;  // kMinStreaming adds at most these
  static constexpr std::chrono::seconds kMaxStreaming{10};

  explicit TransactionSizer(std::size_t batch_size) : batch_size_(batch_size) {}

  // A measured round trip (the time from sending BEGIN with the COPY to the server's answer).
  void RecordRoundTrip(std::chrono::microseconds sample);
  std::optional<std::chrono::microseconds> round_trip() const { return round_trip_; }

  // After `batches` full batches (`rows` rows) were streamed in `streaming`: whether the
  // transaction takes one more batch.
  bool TakeAnother(std::size_t batches, std::size_t rows,
                   std::chrono::microseconds streaming) const;

 private:
  std::size_t batch_size_;
  std::optional<std::chrono::microseconds> round_trip_;
};

}  // namespace fieldsync::sync
