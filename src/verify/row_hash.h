// The SQL that verify runs on both servers, so that equal data never leaves them.
//
// A row's hash is MD5 over its columns, each written as "<byte length>:<bytes>"
// (CAST AS BINARY) or "N" for NULL. Lengths make the encoding unambiguous; the
// raw bytes tell 'a' from 'A' under a case-insensitive collation, keep trailing
// spaces, and compare binary columns byte for byte. A chunk's checksum is its
// row count and the XOR of the first 64 bits of every row hash, independent of
// row order (for a table without a key: their exact SUM, so that a duplicated
// row does not cancel out).
// Sessions must use time_zone '+00:00' so TIMESTAMPs render the same on both.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "db/catalog.h"

namespace cutover::verify {

// MD5(...) of one row of `table`, all columns (generated ones included).
std::string RowHashExpr(const db::TableInfo& table);

// One row: COUNT(*) and the 64-bit fold of the row hashes matching `where`.
std::string ChunkChecksumSql(const db::TableInfo& table, const std::string& where);

// The key columns and the row hash of every row matching `where`, in key order
// (for drilling a differing chunk down to its keys).
std::string RowHashesSql(const db::TableInfo& table, const std::string& where);

}  // namespace cutover::verify
