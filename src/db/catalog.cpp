#include "db/catalog.h"

#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>

namespace cutover::db {
namespace {

uint64_t ToU64(const std::optional<std::string>& v) {
  return v ? std::strtoull(v->c_str(), nullptr, 10) : 0;
}

const std::string& Text(const Row& row, size_t i) {
  static const std::string kEmpty;
  return row[i] ? *row[i] : kEmpty;
}

}  // namespace

bool IsIntegerDataType(std::string_view t) {
  static constexpr std::array<std::string_view, 5> kInts = {"tinyint", "smallint", "mediumint", "int", "bigint"};
  return std::find(kInts.begin(), kInts.end(), t) != kInts.end();
}

ValueKind KindOfDataType(std::string_view t) {
  if (IsIntegerDataType(t) || t == "decimal" || t == "float" || t == "double" || t == "year") {
    return ValueKind::kNumber;
  }
  if (t == "bit") return ValueKind::kBit;
  return ValueKind::kBytes;
}

std::string TableInfo::QualifiedName() const { return QuoteIdentifier(schema) + "." + QuoteIdentifier(name); }
std::string TableInfo::DisplayName() const { return schema + "." + name; }

bool IsSystemSchema(std::string_view s) {
  return s == "mysql" || s == "sys" || s == "information_schema" || s == "performance_schema" || s == kCutoverSchema;
}

Result<std::vector<std::string>> ReadUserSchemas(Connection& conn) {
  auto rows = conn.Query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME");
  if (!rows) return Fail(rows.error());
  std::vector<std::string> out;
  for (const Row& r : rows->rows) {
    if (!IsSystemSchema(Text(r, 0))) out.push_back(Text(r, 0));
  }
  return out;
}

Result<std::vector<std::string>> ReadEmptyUserSchemas(Connection& conn) {
  auto rows = conn.Query(
      "SELECT s.SCHEMA_NAME FROM information_schema.SCHEMATA s"
      " WHERE NOT EXISTS (SELECT 1 FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = s.SCHEMA_NAME)"
      " AND NOT EXISTS (SELECT 1 FROM information_schema.ROUTINES r WHERE r.ROUTINE_SCHEMA = s.SCHEMA_NAME)"
      " AND NOT EXISTS (SELECT 1 FROM information_schema.EVENTS e WHERE e.EVENT_SCHEMA = s.SCHEMA_NAME)"
      " ORDER BY s.SCHEMA_NAME");
  if (!rows) return Fail(rows.error());
  std::vector<std::string> out;
  for (const Row& r : rows->rows) {
    if (!IsSystemSchema(Text(r, 0))) out.push_back(Text(r, 0));
  }
  return out;
}

std::string SchemaFilter(Connection& conn, std::string_view column, const std::vector<std::string>& schemas) {
  if (schemas.empty()) return "1=0";
  std::string out = fmt::format("{} IN (", column);
  for (size_t i = 0; i < schemas.size(); ++i) out += (i ? "," : "") + conn.Quote(schemas[i]);
  return out + ")";
}

Result<std::vector<TableInfo>> ReadTables(Connection& conn, const std::vector<std::string>& schemas) {
  auto tables = conn.Query(fmt::format(
      "SELECT TABLE_SCHEMA, TABLE_NAME, IFNULL(ENGINE,''), IFNULL(TABLE_ROWS,0), IFNULL(DATA_LENGTH,0) "
      "FROM information_schema.TABLES WHERE TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED') AND {} "
      "ORDER BY TABLE_SCHEMA, TABLE_NAME",
      SchemaFilter(conn, "TABLE_SCHEMA", schemas)));
  if (!tables) return Fail(tables.error());
  std::vector<TableInfo> out;
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (const Row& r : tables->rows) {
    TableInfo t;
    t.schema = Text(r, 0);
    t.name = Text(r, 1);
    t.engine = Text(r, 2);
    t.estimated_rows = ToU64(r[3]);
    t.data_bytes = ToU64(r[4]);
    index[{t.schema, t.name}] = out.size();
    out.push_back(std::move(t));
  }
  auto columns = conn.Query(fmt::format(
      "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE, IS_GENERATED, EXTRA "
      "FROM information_schema.COLUMNS WHERE {} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
      SchemaFilter(conn, "TABLE_SCHEMA", schemas)));
  if (!columns) return Fail(columns.error());
  for (const Row& r : columns->rows) {
    auto it = index.find({Text(r, 0), Text(r, 1)});
    if (it == index.end()) continue;  // a view's columns
    ColumnInfo c;
    c.name = Text(r, 2);
    c.data_type = Text(r, 3);
    c.kind = KindOfDataType(c.data_type);
    c.nullable = Text(r, 4) == "YES";
    c.generated = Text(r, 5) == "ALWAYS";
    c.auto_increment = Text(r, 6).find("auto_increment") != std::string::npos;
    out[it->second].columns.push_back(std::move(c));
  }
  // Unique indexes, primary first; a candidate is usable when none of its columns is nullable.
  auto keys = conn.Query(fmt::format(
      "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
      "WHERE NON_UNIQUE = 0 AND {} ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME <> 'PRIMARY', INDEX_NAME, "
      "SEQ_IN_INDEX",
      SchemaFilter(conn, "TABLE_SCHEMA", schemas)));
  if (!keys) return Fail(keys.error());
  std::map<std::pair<size_t, std::string>, std::vector<size_t>> candidates;
  std::map<size_t, std::vector<std::string>> order;
  for (const Row& r : keys->rows) {
    auto it = index.find({Text(r, 0), Text(r, 1)});
    if (it == index.end()) continue;
    TableInfo& t = out[it->second];
    auto col = std::find_if(t.columns.begin(), t.columns.end(), [&](const ColumnInfo& c) { return c.name == Text(r, 3); });
    auto& cand = candidates[{it->second, Text(r, 2)}];
    if (cand.empty()) order[it->second].push_back(Text(r, 2));
    // A prefix or an expression index cannot order rows: mark it unusable.
    cand.push_back(col == t.columns.end() ? SIZE_MAX : static_cast<size_t>(col - t.columns.begin()));
  }
  for (auto& [table, names] : order) {
    TableInfo& t = out[table];
    for (const std::string& name : names) {
      const auto& cols = candidates[{table, name}];
      bool usable = std::all_of(cols.begin(), cols.end(),
                                [&](size_t c) { return c != SIZE_MAX && !t.columns[c].nullable; });
      if (usable) {
        t.key_name = name;
        t.key_columns = cols;
        break;
      }
    }
  }
  return out;
}

}  // namespace cutover::db
