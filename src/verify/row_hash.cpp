#include "verify/row_hash.h"

#include <fmt/format.h>

#include "db/key_range.h"

namespace cutover::verify {

std::string RowHashExpr(const db::TableInfo& t) {
  std::string segments;
  for (const db::ColumnInfo& c : t.columns) {
    std::string name = db::QuoteIdentifier(c.name);
    // The text form of a FLOAT has 6 digits and would hide a difference in the last bits.
    if (c.data_type == "float") name = fmt::format("CAST({} AS DOUBLE)", name);
    segments += fmt::format("{}IFNULL(CONCAT(OCTET_LENGTH({}),':',CAST({} AS BINARY)),'N')",
                            segments.empty() ? "" : ",", name, name);
  }
  return fmt::format("MD5(CONCAT({}))", segments);
}

std::string ChunkChecksumSql(const db::TableInfo& t, const std::string& where) {
  return fmt::format(
      "SELECT COUNT(*), IFNULL(SUM(CAST(CONV(SUBSTRING(h,1,16),16,10) AS UNSIGNED)),0), "
      "IFNULL(SUM(CAST(CONV(SUBSTRING(h,17,16),16,10) AS UNSIGNED)),0) "
      "FROM (SELECT {} AS h FROM {}{}{}) AS chunk",
      RowHashExpr(t), t.QualifiedName(), db::ForceKey(t), where.empty() ? "" : " WHERE " + where);
}

std::string RowHashesSql(const db::TableInfo& t, const std::string& where) {
  if (t.key_columns.empty()) {
    return fmt::format("SELECT {} FROM {}{}", RowHashExpr(t), t.QualifiedName(), where.empty() ? "" : " WHERE " + where);
  }
  return fmt::format("SELECT {}, {} FROM {}{}{} ORDER BY {}", db::KeyColumnList(t), RowHashExpr(t), t.QualifiedName(),
                     db::ForceKey(t), where.empty() ? "" : " WHERE " + where, db::KeyColumnList(t));
}

}  // namespace cutover::verify
