// The schema of the source's user databases, read once and replayed on the
// target in an order that loads:
//   databases, tables (secondary indexes deferred), routines, views   before data;
//   deferred indexes                                                  per table, after its data;
//   triggers, events                                                  after all data,
// so that triggers never fire on copied rows and events never run on the copy.
// Each object is created with the sql_mode and character set it was defined
// with. Every statement runs with sql_log_bin=0: the copy is not replicated.
// Thread-safety: SchemaCopy is immutable after Read(); its methods use only
// the connection passed in.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/catalog.h"
#include "db/connection.h"

namespace cutover::clone {

// A CREATE statement and the session settings it must run under.
struct SchemaObject {
  std::string schema;
  std::string kind;  // "DATABASE", "TABLE", "PROCEDURE", "FUNCTION", "VIEW", "TRIGGER", "EVENT"
  std::string name;
  std::string create_sql;
  std::string sql_mode;              // empty: the session's
  std::string character_set_client;  // empty: utf8mb4
  std::string collation_connection;
  std::string time_zone;             // EVENT only
  std::string deferred_indexes;      // TABLE only: "ADD KEY ..., ADD UNIQUE KEY ..." or empty
};

// Removes the secondary KEY / UNIQUE KEY lines from SHOW CREATE TABLE output
// and returns them as ALTER TABLE clauses. Leaves `create` unchanged (and
// returns "") when the table has foreign keys. Exposed for unit tests.
std::string SplitDeferredIndexes(std::string& create);

class SchemaCopy {
 public:
  // Reads every object of `schemas`. With `defer_indexes`, InnoDB tables that
  // take no part in foreign keys are created without their secondary indexes.
  [[nodiscard]] static Result<SchemaCopy> Read(db::Connection& source, const std::vector<std::string>& schemas,
                                               const std::vector<db::TableInfo>& tables, bool defer_indexes);

  // REQUIRES: `target` has sql_log_bin=0 (true of every method below).
  // `on_database` runs before each CREATE DATABASE (to record it as clone-made).
  [[nodiscard]] Status CreateBeforeData(db::Connection& target,
                                        const std::function<Status(const std::string&)>& on_database) const;
  [[nodiscard]] Status AddDeferredIndexes(db::Connection& target, const db::TableInfo& table) const;
  [[nodiscard]] Status CreateAfterData(db::Connection& target) const;

 private:
  Status Create(db::Connection& target, const SchemaObject& object) const;
  Status CreateViews(db::Connection& target) const;

  std::vector<SchemaObject> objects_;
};

}  // namespace cutover::clone
