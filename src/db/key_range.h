// SQL conditions over a table's ordering key (db::TableInfo::key_columns),
// shared by clone's chunk plan and verify's chunk walk.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "db/catalog.h"
#include "db/connection.h"

namespace cutover::db {

// "(a > 1 OR (a = 1 AND b >= 'x'))": compares the key columns with `values`
// as a tuple. `op` is one of < <= > >=. Values are the text protocol's bytes,
// written for a session with SET NAMES binary.
std::string KeyCompare(const TableInfo& table, const std::vector<FieldView>& values, std::string_view op);

// Holds any BIGINT or BIGINT UNSIGNED key value and the span between two of
// them (a GCC/Clang extension), for splitting integer keys into ranges.
__extension__ typedef __int128 WideInt;
// The text protocol's form of an integer key value, and back.
WideInt ParseWideInt(const std::string& text);
std::string FormatWideInt(WideInt value);

// "`a`,`b`": the key columns, for SELECT and ORDER BY.
std::string KeyColumnList(const TableInfo& table);

// " FORCE INDEX (`PRIMARY`)", or "" for a table without a key.
std::string ForceKey(const TableInfo& table);

}  // namespace cutover::db
