#include "clone/clone_marker.h"

#include <fmt/format.h>

#include "db/catalog.h"
#include "replication/replica.h"

namespace cutover::clone {
namespace {

constexpr char kStateTable[] = "`_cutover`.`clone_state`";

}  // namespace

Result<std::optional<InterruptedClone>> FindInterruptedClone(db::Connection& target) {
  auto exists = target.QueryValue(
      "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_cutover' AND TABLE_NAME = 'clone_state'");
  if (!exists) return Fail(exists.error());
  if (*exists == "0") return std::optional<InterruptedClone>();
  auto rows = target.Query(fmt::format("SELECT kind, value FROM {} ORDER BY id", kStateTable));
  if (!rows) return Fail(rows.error());
  InterruptedClone clone;
  for (const db::Row& r : rows->rows) {
    const std::string kind = r[0].value_or(""), value = r[1].value_or("");
    if (kind == "started") clone.started = value;
    if (kind == "source") clone.source = value;
    if (kind == "schema") clone.schemas.push_back(value);
  }
  return std::optional<InterruptedClone>(std::move(clone));
}

Status MarkCloneStarted(db::Connection& target, const std::string& source) {
  for (const std::string& sql :
       {std::string("CREATE DATABASE IF NOT EXISTS `_cutover`"),
        fmt::format("CREATE TABLE {} (id INT AUTO_INCREMENT PRIMARY KEY, kind VARCHAR(16) NOT NULL, "
                    "value VARCHAR(255) NOT NULL) ENGINE=InnoDB",
                    kStateTable),
        fmt::format("INSERT INTO {} (kind, value) VALUES ('started', NOW(6)), ('source', {})", kStateTable,
                    target.Quote(source))}) {
    if (Status st = target.Execute(sql); !st) return Fail(st.error().WithContext("marking the clone as started"));
  }
  return {};
}

Status RecordCreatedSchema(db::Connection& target, const std::string& schema) {
  return target.Execute(
      fmt::format("INSERT INTO {} (kind, value) VALUES ('schema', {})", kStateTable, target.Quote(schema)));
}

Status UndoInterruptedClone(db::Connection& target, const InterruptedClone& clone) {
  if (Status st = replication::StopAndForgetReplica(target); !st) return st;
  for (const std::string& schema : clone.schemas) {
    Status dropped = target.Execute("DROP DATABASE IF EXISTS " + db::QuoteIdentifier(schema));
    constexpr uint16_t kErrDropRmdir = 1010;  // "Error dropping database (can't rmdir ...)"
    if (!dropped && dropped.error().server_errno() == kErrDropRmdir) {
      // Seen after a target was killed inside CREATE TABLE of a partitioned
      // table: crash recovery leaves files no table owns, which DROP DATABASE
      // will not delete. Only someone on the target's host can.
      auto datadir = db::ReadGlobal(target, "datadir");
      const std::string dir = datadir && !datadir->empty() ? *datadir + schema : "the schema's directory";
      return Fail(dropped.error().WithSuffix(fmt::format(
          "; every table of schema {} is dropped, but the target's crash left files that belong to no table in {}. "
          "That schema was created by the interrupted clone and holds nothing else: on the target's host, remove "
          "that directory (rm -r '{}'), then rerun cutover clone",
          schema, dir, dir)));
    }
    if (!dropped) return dropped;
  }
  return MarkCloneComplete(target);
}

Status MarkCloneComplete(db::Connection& target) { return target.Execute("DROP DATABASE IF EXISTS `_cutover`"); }

}  // namespace cutover::clone
