#include "tests/drivers/mqtt/store_sink.hpp"

#include <utility>

namespace fieldsync::testing {

void StoreSink::Submit(const std::string& input, drivers::DecodedFrame frame,
                       drivers::SubmitDone done, bool durable_now) {
  drivers::SubmitResult result;
  bool refuse = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (durable_now) ++durable_now_;
    if (refuse_next_ > 0) {
      --refuse_next_;
      refuse = true;
    }
  }
  if (refuse) {
    result.status = drivers::SubmitStatus::kRefusedFull;
  } else {
    store::IngestBatch batch;
    batch.input = input;
    batch.frames.push_back(store::IngestFrame{std::move(frame.readings)});
    core::Expected<store::CommitResult> commit = store_.Commit(batch);
    if (!commit) {
      result.status = drivers::SubmitStatus::kFailed;
    } else if (commit->refused_frames > 0 || commit->frame_stored.empty() ||
               !commit->frame_stored.front()) {
      result.status = drivers::SubmitStatus::kRefusedFull;
    } else {
      result.status = drivers::SubmitStatus::kDurable;
      result.accepted = commit->accepted;
      result.duplicates = commit->duplicates;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (result.status == drivers::SubmitStatus::kDurable) {
      ++submitted_;
    } else {
      ++refused_;
    }
  }
  done(result);
}

void StoreSink::Reject(const std::string&, const drivers::FrameRejection& rejection) {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_[rejection.reason];
}

void StoreSink::SetConnected(const std::string& input, bool connected) {
  std::lock_guard<std::mutex> lock(mu_);
  connected_[input] = connected;
}

void StoreSink::RefuseNext(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  refuse_next_ = n;
}

std::int64_t StoreSink::submitted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return submitted_;
}

std::int64_t StoreSink::refused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

std::int64_t StoreSink::rejected(core::RejectReason reason) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rejected_.find(reason);
  return it == rejected_.end() ? 0 : it->second;
}

std::int64_t StoreSink::durable_now_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_now_;
}

bool StoreSink::connected(const std::string& input) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = connected_.find(input);
  return it != connected_.end() && it->second;
}

std::vector<core::Reading> AllPending(store::Store& store) {
  core::Expected<store::UploadBatch> batch = store.OldestPending(1'000'000);
  if (!batch) return {};
  return batch->readings;
}

}  // namespace fieldsync::testing
