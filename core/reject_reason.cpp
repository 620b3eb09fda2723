#include "core/reject_reason.hpp"

namespace fieldsync::core {

std::string_view ToString(RejectReason reason) {
  switch (reason) {
    case RejectReason::kParse:
      return "parse";
    case RejectReason::kChecksum:
      return "checksum";
    case RejectReason::kTooLong:
      return "too_long";
    case RejectReason::kBadTs:
      return "bad_ts";
    case RejectReason::kBadName:
      return "bad_name";
    case RejectReason::kBadValue:
      return "bad_value";
    case RejectReason::kNoReadings:
      return "no_readings";
    case RejectReason::kStoreFull:
      return "store_full";
  }
  return "parse";
}

std::optional<RejectReason> ParseRejectReason(std::string_view text) {
  for (RejectReason r : kAllRejectReasons) {
    if (ToString(r) == text) return r;
  }
  return std::nullopt;
}

}  // namespace fieldsync::core
