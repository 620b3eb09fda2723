#include "sync/conninfo.hpp"

#include <cctype>
#include <optional>

#include "sync/pg_handles.hpp"

namespace fieldsync::sync {
namespace {

constexpr std::string_view kMask = "***";
constexpr std::string_view kUnparsable = "(unparsable connection string)";

bool IsUrl(std::string_view s) {
  return s.starts_with("postgresql://") || s.starts_with("postgres://");
}

// URL form: mask user:PASSWORD@ and ?password=VALUE.
std::string RedactUrl(std::string_view url, bool* found) {
  const size_t scheme_end = url.find("://") + 3;
  const size_t query = url.find('?', scheme_end);
  const std::string_view head = url.substr(0, query);
  std::string out;
  // The last '@' before the query ends the user info (a password may hold a raw '/').
  const size_t at = head.rfind('@');
  if (at != std::string_view::npos && at >= scheme_end) {
    const std::string_view userinfo = head.substr(scheme_end, at - scheme_end);
    const size_t colon = userinfo.find(':');
    out.append(head.substr(0, scheme_end));
    if (colon != std::string_view::npos) {
      *found = true;
      out.append(userinfo.substr(0, colon + 1)).append(kMask);
    } else {
      out.append(userinfo);
    }
    out.append(head.substr(at));
  } else {
    out.append(head);
  }
  if (query == std::string_view::npos) return out;
  out.push_back('?');
  std::string_view rest = url.substr(query + 1);
  bool first = true;
  while (true) {
    const size_t amp = rest.find('&');
    const std::string_view param = rest.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && param.substr(0, eq) == "password") {
      *found = true;
      out.append("password=").append(kMask);
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

// key=value form, following libpq's grammar: values are bare words or single-quoted, and a
// backslash escapes the next character in both.
std::optional<std::string> RedactKeyValue(std::string_view s, bool* found) {
  std::string out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) out.push_back(s[i++]);
  };
  while (true) {
    skip_space();
    if (i >= s.size()) return out;
    const size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const std::string_view key = s.substr(key_start, i - key_start);
    out.append(key);
    skip_space();
    if (i >= s.size() || s[i] != '=') return std::nullopt;
    out.push_back(s[i++]);
    skip_space();
    const size_t value_start = i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      while (i < s.size() && s[i] != '\'') i += (s[i] == '\\') ? size_t{2} : size_t{1};
      if (i >= s.size()) return std::nullopt;
      ++i;
    } else {
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) {
        i += (s[i] == '\\') ? size_t{2} : size_t{1};
      }
      if (i > s.size()) i = s.size();
    }
    if (key == "password") {
      *found = true;
      out.append(kMask);
    } else {
      out.append(s.substr(value_start, i - value_start));
    }
  }
}

}  // namespace

std::string RedactConninfo(std::string_view conninfo) {
  bool found = false;
  if (IsUrl(conninfo)) return RedactUrl(conninfo, &found);
  auto redacted = RedactKeyValue(conninfo, &found);
  return redacted ? *redacted : std::string(kUnparsable);
}

bool ConninfoHasPassword(std::string_view conninfo) {
  bool found = false;
  if (IsUrl(conninfo)) {
    (void)RedactUrl(conninfo, &found);
  } else if (!RedactKeyValue(conninfo, &found)) {
    return false;
  }
  return found;
}

std::vector<std::string> ConninfoKeys(std::string_view conninfo) {
  std::vector<std::string> keys;
  char* err = nullptr;
  const std::string text(conninfo);
  PgConninfoPtr options(PQconninfoParse(text.c_str(), &err));
  if (err != nullptr) PQfreemem(err);  // may quote the string: never shown
  if (!options) return keys;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr) keys.emplace_back(o->keyword);
  }
  return keys;
}

std::vector<std::pair<std::string, std::string>> ConnectParams(
    std::string_view conninfo, std::int64_t op_timeout_s, std::string_view pgconnect_timeout_env) {
  const std::vector<std::string> user_keys = ConninfoKeys(conninfo);
  auto user_set = [&](std::string_view key) {
    for (const auto& k : user_keys) {
      if (k == key) return true;
    }
    return false;
  };
  // Why these numbers: a dead peer is noticed by keepalives after 10 + 3 * 5 = 25 s of silence,
  // and unacknowledged data is abandoned after tcp_user_timeout, so a half-open link is found
  // within a minute even when op_timeout_s is larger.
  const std::int64_t connect_s = op_timeout_s > 0 && op_timeout_s < 10 ? op_timeout_s : 10;
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"keepalives", "1"},
      {"keepalives_idle", "10"},
      {"keepalives_interval", "5"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", "30000"},
      {"connect_timeout", std::to_string(connect_s)},
      {"fallback_application_name", "fieldsync"},
  };
  std::vector<std::pair<std::string, std::string>> params;
  for (auto& [key, value] : defaults) {
    if (user_set(key)) continue;
    if (key == "connect_timeout" && !pgconnect_timeout_env.empty()) continue;
    params.emplace_back(key, value);
  }
  params.emplace_back("dbname", std::string(conninfo));
  return params;
}

}  // namespace fieldsync::sync
