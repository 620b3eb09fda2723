#pragma once
// Invariant checks for the libFuzzer harnesses: a broken invariant prints what was expected and
// aborts, which libFuzzer reports as a crash and saves the input as crash-<sha1>.
// Only for tests/fuzz: the product never aborts on bad input.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fieldsync::fuzz {

[[noreturn]] inline void InvariantBroken(const char* file, int line, const char* expr,
                                         const std::string& detail) {
  std::fprintf(stderr, "\n==fuzz== invariant broken at %s:%d: %s\n", file, line, expr);
  if (!detail.empty()) std::fprintf(stderr, "==fuzz== %s\n", detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// Printable rendering of arbitrary bytes for invariant messages, cut to `max` bytes.
inline std::string Printable(std::string_view bytes, size_t max = 200) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}

}  // namespace fieldsync::fuzz

// FUZZ_CHECK(condition, detail): `detail` (a std::string expression) is evaluated only on failure.
#define FUZZ_CHECK(cond, detail)                                                          \
  do {                                                                                    \
    if (!(cond)) ::fieldsync::fuzz::InvariantBroken(__FILE__, __LINE__, #cond, (detail)); \
  } while (false)
