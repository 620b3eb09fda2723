#pragma once
// How an input's frames are written (§2, §6): format, csv columns, default device, checksum.

#include <cstddef>
#include <string>
#include <vector>

namespace fieldsync::drivers {

enum class FrameFormat : unsigned char { kJson, kKv, kCsv };
enum class Checksum : unsigned char { kNone, kNmea };

struct FrameSpec {
  FrameFormat format = FrameFormat::kJson;
  std::vector<std::string> fields;  // csv column names, in order
  std::string device;               // used when neither the frame nor the topic names one
  Checksum checksum = Checksum::kNone;
  size_t max_line = 4096;  // bytes; a longer line is rejected as too_long
};

}  // namespace fieldsync::drivers
