#pragma once
// Owning handles for libpq objects: a PGconn or PGresult is freed exactly once, on every path.

#include <libpq-fe.h>

#include <memory>

namespace fieldsync::sync {

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
struct PgConninfoFreer {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

using PgConnPtr = std::unique_ptr<PGconn, PgConnCloser>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultClearer>;
using PgConninfoPtr = std::unique_ptr<PQconninfoOption, PgConninfoFreer>;

}  // namespace fieldsync::sync
