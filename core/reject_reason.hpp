#pragma once
// Why a frame was rejected (§2). Every rejection is counted per input and reason.

#include <array>
#include <optional>
#include <string_view>

namespace fieldsync::core {

enum class RejectReason : unsigned char {
  kParse,
  kChecksum,
  kTooLong,
  kBadTs,
  kBadName,
  kBadValue,
  kNoReadings,
  kStoreFull,
};

inline constexpr std::array<RejectReason, 8> kAllRejectReasons = {
    RejectReason::kParse,      RejectReason::kChecksum, RejectReason::kTooLong,
    RejectReason::kBadTs,      RejectReason::kBadName,  RejectReason::kBadValue,
    RejectReason::kNoReadings, RejectReason::kStoreFull};

// "parse", "checksum", "too_long", "bad_ts", "bad_name", "bad_value", "no_readings", "store_full".
std::string_view ToString(RejectReason reason);
std::optional<RejectReason> ParseRejectReason(std::string_view text);

}  // namespace fieldsync::core
