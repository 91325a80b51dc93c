// Writes column values as SQL literals that load back byte for byte.
//
// The caller's session must use `SET NAMES binary` (so string literals are raw
// bytes that the column reinterprets in its own character set) and a sql_mode
// without NO_BACKSLASH_ESCAPES. Values are the text protocol's bytes.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "db/catalog.h"
#include "db/connection.h"

namespace cutover::db {

// Appends 'bytes' with \0 ' " \ newline, carriage return and ^Z escaped.
void AppendQuotedBytes(std::string& out, std::string_view bytes);

// Appends one value: NULL, a number, a BIT value as an integer, or quoted bytes.
void AppendLiteral(std::string& out, ValueKind kind, const FieldView& value);

// Appends one value as a field of LOAD DATA ... CHARACTER SET binary FIELDS
// TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n': \N for NULL;
// backslash, tab, newline, carriage return and NUL escaped; a BIT value as its
// integer (the statement must SET the column from it, see chunk_copier).
void AppendLoadDataField(std::string& out, ValueKind kind, const FieldView& value);

}  // namespace cutover::db
