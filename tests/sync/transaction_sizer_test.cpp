#include "sync/transaction_sizer.hpp"

#include <chrono>

#include <CppUTest/TestHarness.h>

using fieldsync::sync::TransactionSizer;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {
constexpr std::size_t kBatch = 1000;

// How many batches one transaction carries when each batch takes `per_batch` to stream.
std::size_t BatchesPerTransaction(const TransactionSizer& sizer, microseconds per_batch) {
  std::size_t batches = 1;
  while (sizer.TakeAnother(batches, batches * kBatch, per_batch * static_cast<long>(batches))) {
    ++batches;
  }
  return batches;
}
}  // namespace

TEST_GROUP(TransactionSizer){};

TEST(TransactionSizer, WithoutAMeasuredRoundTripATransactionIsOneBatch) {
  TransactionSizer sizer(kBatch);
  CHECK_FALSE(sizer.TakeAnother(1, kBatch, microseconds(0)));
}

TEST(TransactionSizer, OnLoopbackATransactionStreamsForTheMinimumTimeAndNoLonger) {
  TransactionSizer sizer(kBatch);
  sizer.RecordRoundTrip(microseconds(150));
  // 60 ms per batch: the fourth batch starts at 180 ms, the fifth would start at 240 ms.
  LONGS_EQUAL(4, BatchesPerTransaction(sizer, milliseconds(60)));
  // A batch that alone streams longer than the minimum is a transaction of its own.
  LONGS_EQUAL(1, BatchesPerTransaction(sizer, milliseconds(250)));
  // Small batches: the minimum adds at most kMinStreamingBatches of them.
  LONGS_EQUAL(TransactionSizer::kMinStreamingBatches,
              BatchesPerTransaction(sizer, milliseconds(1)));
}

TEST(TransactionSizer, OverASlowLinkTheRoundTripsBecomeASmallShareOfATransaction) {
  TransactionSizer sizer(kBatch);
  sizer.RecordRoundTrip(milliseconds(50));
  const std::size_t batches = BatchesPerTransaction(sizer, milliseconds(60));
  const auto streaming = milliseconds(60) * static_cast<long>(batches);
  const auto waiting = milliseconds(50) * TransactionSizer::kRoundTripsPerTransaction;
  // At most 1/17 of the transaction is spent on round trips, and no more batches than
  // that needs.
  CHECK(waiting * TransactionSizer::kStreamPerRoundTrip <= streaming);
  CHECK(waiting * TransactionSizer::kStreamPerRoundTrip > streaming - milliseconds(60));
  CHECK(batches > 4);  // more than loopback's minimum alone would give
}

TEST(TransactionSizer, ATransactionStopsAtTheBatchRowAndTimeCaps) {
  TransactionSizer sizer(kBatch);
  sizer.RecordRoundTrip(std::chrono::seconds(30));  // a link so slow that only the caps stop it
  LONGS_EQUAL(TransactionSizer::kMaxBatches, BatchesPerTransaction(sizer, microseconds(1)));

  const std::size_t large = TransactionSizer::kMaxRows / 4;
  TransactionSizer big(large);
  big.RecordRoundTrip(std::chrono::seconds(30));
  CHECK(big.TakeAnother(3, 3 * large, microseconds(1)));
  CHECK_FALSE(big.TakeAnother(4, 4 * large, microseconds(1)));  // a fifth would pass kMaxRows

  CHECK_FALSE(sizer.TakeAnother(1, kBatch, TransactionSizer::kMaxStreaming));
}

TEST(TransactionSizer, OneSlowAnswerMovesTheEstimateOnlyAnEighth) {
  TransactionSizer sizer(kBatch);
  sizer.RecordRoundTrip(milliseconds(8));
  sizer.RecordRoundTrip(milliseconds(72));
  LONGS_EQUAL(16'000, sizer.round_trip()->count());
}
