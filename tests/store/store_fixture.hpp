#pragma once
// Builders shared by the store tests.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/reading.hpp"
#include "core/time.hpp"
#include "store/store.hpp"

namespace fieldsync::testing {

inline constexpr core::TimeUs kBaseTs = core::kYear2000Us + 800'000'000 * core::kMicrosPerSecond;

inline core::Reading MakeReading(const std::string& device, const std::string& metric,
                                 core::TimeUs ts, double value) {
  core::Reading reading;
  reading.device = device;
  reading.metric = metric;
  reading.ts = ts;
  reading.value = value;
  reading.ts_source = core::TsSource::kDevice;
  return reading;
}

// A frame of `metrics` readings of one device at one ts ("m0", "m1", ...).
inline store::IngestFrame MakeFrame(const std::string& device, core::TimeUs ts, int metrics = 1,
                                    double value = 1.0) {
  store::IngestFrame frame;
  for (int m = 0; m < metrics; ++m) {
    frame.readings.push_back(MakeReading(device, "m" + std::to_string(m), ts, value + m));
  }
  return frame;
}

// A batch of `frames` consecutive frames (1 s apart from `first_ts`) for input `input`.
inline store::IngestBatch MakeBatch(const std::string& input, int frames, core::TimeUs first_ts,
                                    int metrics = 1) {
  store::IngestBatch batch;
  batch.input = input;
  for (int f = 0; f < frames; ++f) {
    batch.frames.push_back(MakeFrame("dev1", first_ts + f * core::kMicrosPerSecond, metrics));
  }
  return batch;
}

// A store of 1 MiB (max_mb = 1) in `dir` with the given on_full policy; null if it cannot open.
inline std::unique_ptr<store::Store> OpenOneMebibyteStore(const std::string& dir,
                                                          core::Clock& clock,
                                                          store::OnFull on_full) {
  store::StoreOptions options;
  options.max_mb = 1;
  options.on_full = on_full;
  auto opened = store::Store::Open(dir, options, clock);
  return opened ? std::move(*opened) : nullptr;
}

}  // namespace fieldsync::testing
