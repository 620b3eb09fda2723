#pragma once
// The shape of a table as the catalog tells it: its columns with their exact types and its
// primary key. Read on either database; matched by column name between the two.

#include <string>
#include <vector>

#include "core/expected.hpp"
#include "sync/pg_connection.hpp"
#include "sync/transfer_options.hpp"

namespace fieldsync::sync {

struct ColumnShape {
  std::string name;
  std::string type;  // format_type(): "timestamp with time zone", "numeric(10,2)", "text[]"...
};

struct TableShape {
  QualifiedName table;
  std::vector<ColumnShape> columns;      // in attnum order; dropped and generated ones left out
  std::vector<std::string> primary_key;  // in key order; empty when the table has none
};

// Reads the shape of `table` over `conn` (`side` is "source" or "target", for messages).
// kNotFound naming the side and the table when it does not exist.
core::Expected<TableShape> ReadTableShape(PgConnection& conn, const QualifiedName& table,
                                          const std::string& side);

// The columns both sides share, in the target's order. Pure. A column present on one side only
// is an error naming it and the side it is missing from (kInvalidArgument).
core::Expected<std::vector<ColumnShape>> MatchColumns(const TableShape& source,
                                                      const TableShape& target);

// The column of `shape` named `name`, or nullptr.
const ColumnShape* FindColumn(const TableShape& shape, const std::string& name);

}  // namespace fieldsync::sync
