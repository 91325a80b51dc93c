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
  // One MD5 per row, folded to 64 bits. Keyed rows are unique, so BIT_XOR
  // (cheap) is safe; a keyless table may hold duplicates, which XOR would
  // cancel, so its hashes are summed (exactly, as DECIMAL).
  const std::string row64 = fmt::format("CAST(CONV(LEFT({}, 16), 16, 10) AS UNSIGNED)", RowHashExpr(t));
  const std::string fold = t.key_columns.empty() ? fmt::format("IFNULL(SUM({}), 0)", row64)
                                                 : fmt::format("BIT_XOR({})", row64);
  return fmt::format("SELECT COUNT(*), {} FROM {}{}{}", fold, t.QualifiedName(), db::ForceKey(t),
                     where.empty() ? "" : " WHERE " + where);
}

std::string RowHashesSql(const db::TableInfo& t, const std::string& where) {
  if (t.key_columns.empty()) {
    return fmt::format("SELECT {} FROM {}{}", RowHashExpr(t), t.QualifiedName(), where.empty() ? "" : " WHERE " + where);
  }
  return fmt::format("SELECT {}, {} FROM {}{}{} ORDER BY {}", db::KeyColumnList(t), RowHashExpr(t), t.QualifiedName(),
                     db::ForceKey(t), where.empty() ? "" : " WHERE " + where, db::KeyColumnList(t));
}

}  // namespace cutover::verify
