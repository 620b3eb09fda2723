#include "store/aggregate_rows.hpp"

#include <algorithm>
#include <cmath>

namespace fieldsync::store {
namespace {

bool Close(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)});
}

bool Close(const std::optional<double>& a, const std::optional<double>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || Close(*a, *b);
}

}  // namespace

core::Status BindOptional(Statement& stmt, int index, const std::optional<double>& value) {
  return value ? stmt.Bind(index, *value) : stmt.BindNull(index);
}

core::Status BindOptional(Statement& stmt, int index, const std::optional<std::int64_t>& value) {
  return value ? stmt.Bind(index, *value) : stmt.BindNull(index);
}

core::Status BindStats(Statement& stmt, int i, const BucketStats& s) {
  for (core::Status st :
       {stmt.Bind(i, s.n), stmt.Bind(i + 1, s.sum), stmt.Bind(i + 2, s.min),
        stmt.Bind(i + 3, s.max), stmt.Bind(i + 4, s.last), stmt.Bind(i + 5, s.last_ts),
        BindOptional(stmt, i + 6, s.delta), BindOptional(stmt, i + 7, s.optimal_n),
        BindOptional(stmt, i + 8, s.critical_n)}) {
    if (!st) return st;
  }
  return core::Ok();
}

BucketStats ReadStats(const Statement& stmt, int c) {
  BucketStats s;
  s.n = stmt.ColumnInt64(c);
  s.sum = stmt.ColumnDouble(c + 1);
  s.min = stmt.ColumnDouble(c + 2);
  s.max = stmt.ColumnDouble(c + 3);
  s.last = stmt.ColumnDouble(c + 4);
  s.last_ts = stmt.ColumnInt64(c + 5);
  if (!stmt.ColumnIsNull(c + 6)) s.delta = stmt.ColumnDouble(c + 6);
  if (!stmt.ColumnIsNull(c + 7)) s.optimal_n = stmt.ColumnInt64(c + 7);
  if (!stmt.ColumnIsNull(c + 8)) s.critical_n = stmt.ColumnInt64(c + 8);
  return s;
}

bool SameStats(const BucketStats& a, const BucketStats& b) {
  return a.n == b.n && Close(a.sum, b.sum) && a.min == b.min && a.max == b.max &&
         a.last == b.last && a.last_ts == b.last_ts && Close(a.delta, b.delta) &&
         a.optimal_n == b.optimal_n && a.critical_n == b.critical_n;
}

}  // namespace fieldsync::store
