#include "db/sql_literal.h"

#include <cstdint>

#include <fmt/format.h>

namespace cutover::db {

void AppendQuotedBytes(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + bytes.size() + 2);
  out.push_back('\'');
  for (char c : bytes) {
    switch (c) {
      case '\0': out += "\\0"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\x1a': out += "\\Z"; break;
      default: out.push_back(c);
    }
  }
  out.push_back('\'');
}

namespace {

// The text protocol sends BIT(n) as ceil(n/8) big-endian bytes.
void AppendBitAsInteger(std::string& out, std::string_view bytes) {
  uint64_t v = 0;
  for (unsigned char b : bytes) v = (v << 8) | b;
  fmt::format_to(std::back_inserter(out), "{}", v);
}

}  // namespace

void AppendLiteral(std::string& out, ValueKind kind, const FieldView& value) {
  if (!value) {
    out += "NULL";
    return;
  }
  switch (kind) {
    case ValueKind::kNumber:
      out += *value;
      return;
    case ValueKind::kBit:
      AppendBitAsInteger(out, *value);
      return;
    case ValueKind::kBytes:
      AppendQuotedBytes(out, *value);
      return;
  }
}

void AppendLoadDataField(std::string& out, ValueKind kind, const FieldView& value) {
  if (!value) {
    out += "\\N";
    return;
  }
  if (kind == ValueKind::kBit) {
    AppendBitAsInteger(out, *value);
    return;
  }
  for (char c : *value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out.push_back(c);
    }
  }
}

}  // namespace cutover::db
