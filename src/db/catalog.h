// What a server holds: its user schemas and, for each base table, the columns
// and the key that orders it. Read from information_schema; used by clone and
// verify to plan chunked work.
// Thread-safety: plain values; the functions use the given connection only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "db/connection.h"

namespace cutover::db {

// How a column's value is written as an SQL literal.
enum class ValueKind {
  kNumber,  // integer, DECIMAL, FLOAT, DOUBLE, YEAR: the text form, unquoted
  kBit,     // BIT(n): the raw big-endian bytes, written as an unsigned integer
  kBytes,   // everything else: the column's bytes as a quoted string literal
};
ValueKind KindOfDataType(std::string_view data_type);
bool IsIntegerDataType(std::string_view data_type);

struct ColumnInfo {
  std::string name;
  std::string data_type;  // information_schema.COLUMNS.DATA_TYPE, e.g. "varchar"
  ValueKind kind = ValueKind::kBytes;
  bool nullable = true;
  bool generated = false;       // VIRTUAL or STORED: computed, never copied
  bool auto_increment = false;
};

struct TableInfo {
  std::string schema;
  std::string name;
  std::string engine;
  std::vector<ColumnInfo> columns;   // in table order
  std::vector<size_t> key_columns;   // indexes into columns; empty: no usable key
  std::string key_name;              // "PRIMARY", a NOT NULL unique index, or empty
  uint64_t estimated_rows = 0;       // information_schema's estimate
  uint64_t data_bytes = 0;           // DATA_LENGTH, an estimate too

  bool has_primary_key() const { return key_name == "PRIMARY"; }
  std::string QualifiedName() const;  // `schema`.`name`, quoted for SQL
  std::string DisplayName() const;    // schema.name, for people
};

// Schemas that hold user data: everything but mysql, sys, information_schema,
// performance_schema and cutover's own `_cutover`.
inline constexpr std::string_view kCutoverSchema = "_cutover";
bool IsSystemSchema(std::string_view schema);
[[nodiscard]] Result<std::vector<std::string>> ReadUserSchemas(Connection& conn);
// The user schemas that hold nothing: no table, view, sequence, routine or
// event (mariadb-install-db's `test`, say).
[[nodiscard]] Result<std::vector<std::string>> ReadEmptyUserSchemas(Connection& conn);

// Every base table in `schemas` with its columns and ordering key: the
// primary key, else the first unique index whose columns are all NOT NULL.
[[nodiscard]] Result<std::vector<TableInfo>> ReadTables(Connection& conn, const std::vector<std::string>& schemas);

// "schema IN ('a','b')" for information_schema queries; "1=0" when empty.
std::string SchemaFilter(Connection& conn, std::string_view column, const std::vector<std::string>& schemas);

}  // namespace cutover::db
