#include "sync/transaction_sizer.hpp"

namespace fieldsync::sync {

void TransactionSizer::RecordRoundTrip(std::chrono::microseconds sample) {
  if (sample.count() < 0) return;
  // Smoothed like TCP's SRTT (7/8 old + 1/8 new), so one slow answer does not swing the size.
  round_trip_ = round_trip_ ? (*round_trip_ * 7 + sample) / 8 : sample;
}

bool TransactionSizer::TakeAnother(std::size_t batches, std::size_t rows,
                                   std::chrono::microseconds streaming) const {
  if (!round_trip_) return false;
  if (batches >= kMaxBatches || rows + batch_size_ > kMaxRows) return false;
  if (streaming >= kMaxStreaming) return false;
  if (streaming < kMinStreaming && batches < kMinStreamingBatches) return true;
  return streaming < *round_trip_ * (kRoundTripsPerTransaction * kStreamPerRoundTrip);
}

}  // namespace fieldsync::sync
