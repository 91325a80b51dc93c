#include "clone/schema_copy.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace cutover::clone {
namespace {

using db::QuoteIdentifier;

// What tables and columns are written with: permissive enough for every value
// the source accepted (zero dates), and 0 in an AUTO_INCREMENT column stays 0.
constexpr char kCopySqlMode[] = "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION";
constexpr int kErrNoSuchTable = 1146;

std::string ColumnOf(const db::QueryResult& r, size_t row, std::string_view name) {
  for (size_t i = 0; i < r.columns.size(); ++i) {
    if (r.columns[i] == name) return r.rows[row][i].value_or("");
  }
  return "";
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// SHOW CREATE <kind> for routines, views, triggers and events. The definition
// is fetched in the character set it was written in, so that it can be
// replayed byte for byte under the same SET NAMES.
Result<SchemaObject> ShowCreate(db::Connection& source, const std::string& schema, const std::string& kind,
                                const std::string& name, const std::string& charset) {
  if (Status st = source.Execute(fmt::format("SET NAMES {}", charset.empty() ? "utf8mb4" : charset)); !st) {
    return Fail(st.error());
  }
  const std::string what = fmt::format("{} {}.{}", kind, schema, name);
  auto r = source.Query(fmt::format("SHOW CREATE {} {}.{}", kind, QuoteIdentifier(schema), QuoteIdentifier(name)));
  if (Status st = source.Execute("SET NAMES utf8mb4"); !st) return Fail(st.error());
  if (!r) return Fail(r.error().WithContext("reading " + what));
  if (r->rows.empty()) return Fail(Error::Precondition(fmt::format("source {}: {} vanished", source.where(), what)));
  SchemaObject o{.schema = schema, .kind = kind, .name = name};
  static const std::map<std::string, std::string> kTextColumn = {{"PROCEDURE", "Create Procedure"},
                                                                 {"FUNCTION", "Create Function"},
                                                                 {"VIEW", "Create View"},
                                                                 {"TRIGGER", "SQL Original Statement"},
                                                                 {"EVENT", "Create Event"}};
  o.create_sql = ColumnOf(*r, 0, kTextColumn.at(kind));
  if (o.create_sql.empty()) {
    return Fail(Error::Precondition(fmt::format(
        "source {}: cannot read the definition of {}; the source user needs SELECT on mysql.proc "
        "(routines), SHOW VIEW (views), TRIGGER (triggers) or EVENT (events)",
        source.where(), what)));
  }
  o.sql_mode = ColumnOf(*r, 0, "sql_mode");
  o.character_set_client = ColumnOf(*r, 0, "character_set_client");
  o.collation_connection = ColumnOf(*r, 0, "collation_connection");
  o.time_zone = ColumnOf(*r, 0, "time_zone");
  return o;
}

// Lists (schema, name, character_set_client) of one kind of object.
Result<db::QueryResult> ListObjects(db::Connection& source, std::string_view sql_format,
                                    const std::vector<std::string>& schemas, std::string_view schema_column) {
  return source.Query(fmt::format(fmt::runtime(sql_format), db::SchemaFilter(source, schema_column, schemas)));
}

Status AddObjects(db::Connection& source, const std::string& kind, std::string_view list_sql,
                  std::string_view schema_column, const std::vector<std::string>& schemas,
                  std::vector<SchemaObject>& out) {
  auto list = ListObjects(source, list_sql, schemas, schema_column);
  if (!list) return Fail(list.error());
  for (const db::Row& row : list->rows) {
    std::string object_kind = row.size() > 3 && row[3] ? *row[3] : kind;
    auto o = ShowCreate(source, row[0].value_or(""), object_kind, row[1].value_or(""), row[2].value_or(""));
    if (!o) return Fail(o.error());
    out.push_back(std::move(*o));
  }
  return {};
}

Result<std::set<std::pair<std::string, std::string>>> TablesInForeignKeys(db::Connection& source,
                                                                           const std::vector<std::string>& schemas) {
  auto r = source.Query(fmt::format(
      "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME "
      "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE {} OR {}",
      db::SchemaFilter(source, "CONSTRAINT_SCHEMA", schemas),
      db::SchemaFilter(source, "UNIQUE_CONSTRAINT_SCHEMA", schemas)));
  if (!r) return Fail(r.error());
  std::set<std::pair<std::string, std::string>> out;
  for (const db::Row& row : r->rows) {
    out.insert({row[0].value_or(""), row[1].value_or("")});
    out.insert({row[2].value_or(""), row[3].value_or("")});
  }
  return out;
}

}  // namespace

std::string SplitDeferredIndexes(std::string& create) {
  if (create.find("FOREIGN KEY") != std::string::npos) return "";
  std::istringstream in(create);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  if (lines.size() < 3 || !StartsWith(lines.back(), ")")) return "";
  std::vector<std::string> kept;
  std::string deferred;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    std::string body = lines[i];
    if (!body.empty() && body.back() == ',') body.pop_back();
    if (StartsWith(body, "  KEY ") || StartsWith(body, "  UNIQUE KEY ")) {
      deferred += (deferred.empty() ? "ADD " : ", ADD ") + body.substr(2);
    } else {
      kept.push_back(body);
    }
  }
  if (deferred.empty()) return "";
  std::string out = lines.front() + "\n";
  for (size_t i = 0; i < kept.size(); ++i) out += kept[i] + (i + 1 < kept.size() ? ",\n" : "\n");
  create = out + lines.back();
  return deferred;
}

Result<SchemaCopy> SchemaCopy::Read(db::Connection& source, const std::vector<std::string>& schemas,
                                    const std::vector<db::TableInfo>& tables, bool defer_indexes) {
  SchemaCopy copy;
  for (const std::string& schema : schemas) {
    auto r = source.Query("SHOW CREATE DATABASE " + QuoteIdentifier(schema));
    if (!r) return Fail(r.error());
    copy.objects_.push_back({.schema = schema, .kind = "DATABASE", .name = schema,
                             .create_sql = r->rows.at(0).at(1).value_or("")});
  }
  auto in_foreign_keys = TablesInForeignKeys(source, schemas);
  if (!in_foreign_keys) return Fail(in_foreign_keys.error());
  for (const db::TableInfo& t : tables) {
    auto r = source.Query("SHOW CREATE TABLE " + t.QualifiedName());
    if (!r) return Fail(r.error());
    SchemaObject o{.schema = t.schema, .kind = "TABLE", .name = t.name,
                   .create_sql = r->rows.at(0).at(1).value_or(""), .sql_mode = kCopySqlMode};
    // An AUTO_INCREMENT column must stay indexed, so only a table whose
    // counter is the primary key's first column loses its secondary indexes.
    bool auto_increment_in_pk = true;
    for (size_t c = 0; c < t.columns.size(); ++c) {
      if (t.columns[c].auto_increment) {
        auto_increment_in_pk = t.has_primary_key() && !t.key_columns.empty() && t.key_columns.front() == c;
      }
    }
    if (defer_indexes && t.engine == "InnoDB" && auto_increment_in_pk && !in_foreign_keys->contains({t.schema, t.name})) {
      o.deferred_indexes = SplitDeferredIndexes(o.create_sql);
    }
    copy.objects_.push_back(std::move(o));
  }
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"ROUTINE",
       "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, CHARACTER_SET_CLIENT, ROUTINE_TYPE FROM information_schema.ROUTINES "
       "WHERE {} ORDER BY ROUTINE_SCHEMA, ROUTINE_TYPE = 'PROCEDURE', ROUTINE_NAME"},
      {"VIEW",
       "SELECT TABLE_SCHEMA, TABLE_NAME, CHARACTER_SET_CLIENT FROM information_schema.VIEWS WHERE {} "
       "ORDER BY TABLE_SCHEMA, TABLE_NAME"},
      {"TRIGGER",
       "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, CHARACTER_SET_CLIENT FROM information_schema.TRIGGERS WHERE {} "
       "ORDER BY TRIGGER_SCHEMA, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER"},
      {"EVENT",
       "SELECT EVENT_SCHEMA, EVENT_NAME, CHARACTER_SET_CLIENT FROM information_schema.EVENTS WHERE {} "
       "ORDER BY EVENT_SCHEMA, EVENT_NAME"}};
  const std::vector<std::string> schema_columns = {"ROUTINE_SCHEMA", "TABLE_SCHEMA", "TRIGGER_SCHEMA", "EVENT_SCHEMA"};
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (Status st = AddObjects(source, kinds[i].first, kinds[i].second, schema_columns[i], schemas, copy.objects_);
        !st) {
      return Fail(st.error());
    }
  }
  return copy;
}

Status SchemaCopy::Create(db::Connection& target, const SchemaObject& o) const {
  std::vector<std::string> setup;
  if (o.kind != "DATABASE") setup.push_back("USE " + QuoteIdentifier(o.schema));
  setup.push_back(fmt::format("SET SESSION sql_mode = {}", target.Quote(o.sql_mode)));
  if (!o.character_set_client.empty()) {
    setup.push_back(fmt::format("SET NAMES {} COLLATE {}", o.character_set_client, o.collation_connection));
  }
  if (!o.time_zone.empty()) setup.push_back(fmt::format("SET SESSION time_zone = {}", target.Quote(o.time_zone)));
  for (const std::string& sql : setup) {
    if (Status st = target.Execute(sql); !st) return st;
  }
  Status st = target.Execute(o.create_sql);
  if (st && o.kind == "EVENT") {
    // The source runs its events; on the replica they would run twice.
    st = target.Execute(fmt::format("ALTER EVENT {} DISABLE ON SLAVE", QuoteIdentifier(o.name)));
  }
  Status reset = target.Execute("SET NAMES utf8mb4");
  if (!st) return Fail(st.error().WithContext(fmt::format("creating {} {}.{}", o.kind, o.schema, o.name)));
  return reset;
}

Status SchemaCopy::CreateBeforeData(db::Connection& target,
                                    const std::function<Status(const std::string&)>& on_database) const {
  for (const std::string kind : {"DATABASE", "TABLE", "FUNCTION", "PROCEDURE"}) {
    for (const SchemaObject& o : objects_) {
      if (o.kind != kind) continue;
      if (kind == "DATABASE") {
        if (Status st = on_database(o.name); !st) return st;
      }
      if (Status st = Create(target, o); !st) return st;
    }
  }
  return CreateViews(target);
}

// A view may select from a view defined after it: create what loads, then retry the rest.
Status SchemaCopy::CreateViews(db::Connection& target) const {
  std::vector<const SchemaObject*> pending;
  for (const SchemaObject& o : objects_) {
    if (o.kind == "VIEW") pending.push_back(&o);
  }
  while (!pending.empty()) {
    std::vector<const SchemaObject*> failed;
    std::optional<Error> last;
    for (const SchemaObject* o : pending) {
      Status st = Create(target, *o);
      if (st) continue;
      if (st.error().server_errno() != kErrNoSuchTable) return st;
      failed.push_back(o);
      last = st.error();
    }
    if (failed.size() == pending.size()) return Fail(*last);
    pending = std::move(failed);
  }
  return {};
}

Status SchemaCopy::AddDeferredIndexes(db::Connection& target, const db::TableInfo& table) const {
  for (const SchemaObject& o : objects_) {
    if (o.kind != "TABLE" || o.schema != table.schema || o.name != table.name || o.deferred_indexes.empty()) continue;
    Status st = target.Execute(fmt::format("ALTER TABLE {} {}", table.QualifiedName(), o.deferred_indexes));
    if (!st) return Fail(st.error().WithContext("adding the secondary indexes of " + table.DisplayName()));
  }
  return {};
}

Status SchemaCopy::CreateAfterData(db::Connection& target) const {
  for (const std::string kind : {"TRIGGER", "EVENT"}) {
    for (const SchemaObject& o : objects_) {
      if (o.kind != kind) continue;
      if (Status st = Create(target, o); !st) return st;
    }
  }
  return {};
}

}  // namespace cutover::clone
