#include "db/key_range.h"

#include <fmt/format.h>

#include "db/sql_literal.h"

namespace cutover::db {

std::string KeyCompare(const TableInfo& t, const std::vector<FieldView>& values, std::string_view op) {
  // (a, b) >= (x, y)  ==  a > x OR (a = x AND b >= y), which every optimizer turns into a range.
  const std::string strict(op.substr(0, 1));
  std::string out;
  for (size_t i = values.size(); i-- > 0;) {
    const ColumnInfo& c = t.columns[t.key_columns[i]];
    std::string value;
    AppendLiteral(value, c.kind, values[i]);
    const std::string name = QuoteIdentifier(c.name);
    if (out.empty()) {
      out = fmt::format("{} {} {}", name, op, value);
    } else {
      out = fmt::format("({} {} {} OR ({} = {} AND {}))", name, strict, value, name, value, out);
    }
  }
  return out;
}

WideInt ParseWideInt(const std::string& text) {
  return !text.empty() && text.front() == '-' ? static_cast<WideInt>(std::strtoll(text.c_str(), nullptr, 10))
                                              : static_cast<WideInt>(std::strtoull(text.c_str(), nullptr, 10));
}

std::string FormatWideInt(WideInt v) {
  return v < 0 ? fmt::format("-{}", static_cast<uint64_t>(-v)) : fmt::format("{}", static_cast<uint64_t>(v));
}

std::string KeyColumnList(const TableInfo& t) {
  std::string out;
  for (size_t i = 0; i < t.key_columns.size(); ++i) {
    out += (i ? "," : "") + QuoteIdentifier(t.columns[t.key_columns[i]].name);
  }
  return out;
}

std::string ForceKey(const TableInfo& t) {
  if (t.key_columns.empty()) return "";
  return fmt::format(" FORCE INDEX ({})", QuoteIdentifier(t.key_name));
}

}  // namespace cutover::db
