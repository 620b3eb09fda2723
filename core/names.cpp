#include "core/names.hpp"

namespace fieldsync::core {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

template <class Pred>
bool AllOf(std::string_view s, size_t max, Pred ok) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

}  // namespace

bool IsValidDevice(std::string_view name) {
  return AllOf(name, kMaxNameLength,
               [](char c) { return IsAlnum(c) || c == '_' || c == '.' || c == ':' || c == '-'; });
}

bool IsValidMetric(std::string_view name) {
  return AllOf(name, kMaxNameLength,
               [](char c) { return IsAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

bool IsValidSqlIdentifier(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return AllOf(name, 63, [](char c) { return IsAlnum(c) || c == '_'; });
}

}  // namespace fieldsync::core
