#include "drivers/nmea_checksum.hpp"

namespace fieldsync::drivers {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::uint8_t NmeaXor(std::string_view text) {
  unsigned x = 0;
  for (char c : text) x ^= static_cast<unsigned char>(c);
  return static_cast<std::uint8_t>(x);
}

core::Expected<std::string_view> StripNmeaChecksum(std::string_view line) {
  if (line.size() < 3 || line[line.size() - 3] != '*') {
    return core::MakeError(core::Errc::kParse, "line does not end in *HH");
  }
  int hi = HexDigit(line[line.size() - 2]);
  int lo = HexDigit(line[line.size() - 1]);
  if (hi < 0 || lo < 0) {
    return core::MakeError(core::Errc::kParse, "checksum is not two hex digits");
  }
  std::string_view body = line.substr(0, line.size() - 3);
  unsigned expected = static_cast<unsigned>(hi * 16 + lo);
  unsigned actual = NmeaXor(body);
  if (expected != actual) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string msg = "checksum mismatch: line says ";
    msg += line.substr(line.size() - 2);
    msg += ", bytes give ";
    msg += kHex[actual >> 4];
    msg += kHex[actual & 0xFu];
    return core::MakeError(core::Errc::kParse, std::move(msg));
  }
  return body;
}

std::string AppendNmeaChecksum(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  unsigned x = NmeaXor(text);
  std::string out(text);
  out += '*';
  out += kHex[x >> 4];
  out += kHex[x & 0xFu];
  return out;
}

}  // namespace fieldsync::drivers
