#include "sync/table_shape.hpp"

#include "sync/transfer_plan.hpp"

namespace fieldsync::sync {

using core::Errc;
using core::MakeError;

core::Expected<TableShape> ReadTableShape(PgConnection& conn, const QualifiedName& table,
                                          const std::string& side) {
  const std::string qualified = RenderQualifiedName(table);
  // to_regclass answers NULL for a missing table instead of failing the transaction.
  auto columns = conn.Exec(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
      "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
      "AND a.attgenerated = '' ORDER BY a.attnum",
      {qualified});
  if (!columns) return columns.error().Wrap(side + ": columns of " + qualified);
  if (columns->rows() == 0) {
    return MakeError(Errc::kNotFound,
                     side + ": table " + table.schema + "." + table.name + " does not exist");
  }
  TableShape shape{table, {}, {}};
  for (int row = 0; row < columns->rows(); ++row) {
    shape.columns.push_back(
        {std::string(columns->Value(row, 0)), std::string(columns->Value(row, 1))});
  }
  auto key = conn.Exec(
      "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
      "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass($1) AND i.indisprimary "
      "ORDER BY array_position(i.indkey::int2[], a.attnum)",
      {qualified});
  if (!key) return key.error().Wrap(side + ": primary key of " + qualified);
  for (int row = 0; row < key->rows(); ++row) shape.primary_key.emplace_back(key->Value(row, 0));
  return shape;
}

core::Expected<std::vector<ColumnShape>> MatchColumns(const TableShape& source,
                                                      const TableShape& target) {
  const std::string name = source.table.schema + "." + source.table.name;
  for (const auto& column : source.columns) {
    if (FindColumn(target, column.name) == nullptr) {
      return MakeError(Errc::kInvalidArgument,
                       "column \"" + column.name + "\" of " + name + " is missing in the target");
    }
  }
  for (const auto& column : target.columns) {
    if (FindColumn(source, column.name) == nullptr) {
      return MakeError(Errc::kInvalidArgument,
                       "column \"" + column.name + "\" of " + name + " is missing in the source");
    }
  }
  return target.columns;
}

const ColumnShape* FindColumn(const TableShape& shape, const std::string& name) {
  for (const auto& column : shape.columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

}  // namespace fieldsync::sync
