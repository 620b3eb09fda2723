#include "core/expected.hpp"

namespace fieldsync::core {

const char* ToString(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return "invalid argument";
    case Errc::kParse:
      return "parse error";
    case Errc::kNotFound:
      return "not found";
    case Errc::kConflict:
      return "conflict";
    case Errc::kBusy:
      return "busy";
    case Errc::kFull:
      return "full";
    case Errc::kIo:
      return "I/O error";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kRemoteData:
      return "remote refused data";
    case Errc::kRemoteOther:
      return "remote error";
    case Errc::kUnsupported:
      return "unsupported";
    case Errc::kCorrupt:
      return "corrupt";
    case Errc::kInternal:
      return "internal error";
  }
  return "unknown error";
}

}  // namespace fieldsync::core
