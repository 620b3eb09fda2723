#pragma once
// Name rules of §1, shared by parsing, config and the remote schema.

#include <string_view>

namespace fieldsync::core {

constexpr size_t kMaxNameLength = 64;

// 1–64 chars of [A-Za-z0-9_.:-].
bool IsValidDevice(std::string_view name);
// 1–64 chars of [A-Za-z0-9_.-] (nested JSON keys are joined with '.').
bool IsValidMetric(std::string_view name);
// A SQL identifier we are willing to quote and use (schema names from config):
// [A-Za-z_][A-Za-z0-9_]{0,62}.
bool IsValidSqlIdentifier(std::string_view name);

}  // namespace fieldsync::core
