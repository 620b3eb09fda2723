#include "sync/profile_fetch.hpp"

#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>

#include "core/names.hpp"

namespace fieldsync::sync {
namespace {

std::optional<double> ParseDouble(std::string_view text) {
  double value = 0.0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// Empty when the row is usable, else why not.
std::string ReadRow(const PgResult& result, int row, FetchedProfileRow& out) {
  out.metric = std::string(result.Value(row, 0));
  if (result.IsNull(row, 0) || !core::IsValidMetric(out.metric))
    return "metric is not a valid name";
  if (result.IsNull(row, 1) || result.IsNull(row, 2)) return "optimal bounds are null";
  auto lo = ParseDouble(result.Value(row, 1));
  auto hi = ParseDouble(result.Value(row, 2));
  if (!lo || !hi) return "optimal bounds are not numbers";
  if (*lo > *hi) return "optimal_lo > optimal_hi";
  out.optimal_lo = *lo;
  out.optimal_hi = *hi;
  out.critical_lo.reset();
  out.critical_hi.reset();
  for (int column : {3, 4}) {
    if (result.IsNull(row, column)) continue;
    auto v = ParseDouble(result.Value(row, column));
    if (!v) return "critical bounds are not numbers";
    (column == 3 ? out.critical_lo : out.critical_hi) = *v;
  }
  if ((out.critical_lo && *out.critical_lo > *lo) || (out.critical_hi && *out.critical_hi < *hi)) {
    return "critical bounds do not enclose the optimal range";
  }
  return "";
}

}  // namespace

core::Expected<FetchedProfiles> FetchProfiles(PgConnection& conn, const std::string& query) {
  auto result = conn.Exec(query);
  if (!result) return result.error();
  if (result->columns() != 5) {
    return core::MakeError(core::Errc::kInvalidArgument,
                           "profiles_query returned " + std::to_string(result->columns()) +
                               " columns; expected 5: metric, optimal_lo, optimal_hi, "
                               "critical_lo, critical_hi");
  }
  FetchedProfiles fetched;
  for (int row = 0; row < result->rows(); ++row) {
    FetchedProfileRow out;
    std::string why = ReadRow(*result, row, out);
    if (why.empty()) {
      fetched.rows.push_back(std::move(out));
    } else {
      if (fetched.rows_ignored++ == 0)
        fetched.first_ignored = "row " + std::to_string(row + 1) + ": " + why;
    }
  }
  return fetched;
}

}  // namespace fieldsync::sync
