#pragma once
// The connection string as libpq understands it (URL or key=value), and what fieldsync adds to
// it. Pure string logic: nothing here opens a connection.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fieldsync::sync {

// The conninfo with any password replaced by "***": the user:password part and a `password`
// query parameter of a URL, the `password` key of a key=value string. A string that cannot be
// parsed is shown as "(unparsable connection string)" rather than risk echoing a secret.
std::string RedactConninfo(std::string_view conninfo);

// Whether the string itself carries a password (a warning, .pgpass is the better place).
bool ConninfoHasPassword(std::string_view conninfo);

// The keys the string sets explicitly (lower case), or an empty list if it does not parse.
std::vector<std::string> ConninfoKeys(std::string_view conninfo);

// Keyword/value pairs for PQconnectStartParams with expand_dbname: fieldsync's defaults for a
// robust link (keepalives, tcp_user_timeout, connect_timeout, fallback_application_name) first,
// then `dbname` = the user's string, so that anything the user wrote wins (libpq keeps the last
// value of a repeated keyword). A default is also left out when the string sets that key, and
// connect_timeout when `pgconnect_timeout_env` (the value of $PGCONNECT_TIMEOUT) is non-empty.
std::vector<std::pair<std::string, std::string>> ConnectParams(
    std::string_view conninfo, std::int64_t op_timeout_s, std::string_view pgconnect_timeout_env);

}  // namespace fieldsync::sync
