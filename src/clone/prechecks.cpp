#include "clone/prechecks.h"

#include <algorithm>

#include <fmt/format.h>

#include "db/flavor.h"

namespace cutover::clone {
namespace {

constexpr int kErrAccessDenied = 1045;

std::string Join(const std::vector<std::string>& items, size_t limit = 10) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += fmt::format(" and {} more", items.size() - limit);
  return out;
}

Status CheckSource(db::Connection& source) {
  auto log_bin = db::ReadGlobal(source, "log_bin");
  if (!log_bin) return Fail(log_bin.error());
  if (*log_bin != "1") {
    return Fail(Error::Precondition(fmt::format(
        "source {}: the binary log is off, so the target could not replicate; restart mariadbd with "
        "--log-bin --binlog-format=ROW",
        source.where())));
  }
  auto server_id = db::ReadGlobal(source, "server_id");
  if (!server_id) return Fail(server_id.error());
  if (*server_id == "0") {
    return Fail(Error::Precondition(fmt::format(
        "source {}: server_id is 0, which refuses replicas; set server_id to a unique non-zero value", source.where())));
  }
  if (Status st = source.Execute("SHOW MASTER STATUS"); !st) {
    return Fail(st.error().WithContext("the source user needs the BINLOG MONITOR (REPLICATION CLIENT) privilege"));
  }
  return {};
}

Status CheckVersions(db::Connection& source, db::Connection& target) {
  auto sv = db::GetServerVersion(source);
  if (!sv) return Fail(sv.error());
  auto tv = db::GetServerVersion(target);
  if (!tv) return Fail(tv.error());
  for (const auto* v : {&*sv, &*tv}) {
    if (v->flavor != db::Flavor::kMariaDB) {
      return Fail(Error::Unsupported(fmt::format(
          "{} {} is {}; cutover clone supports MariaDB (10.5 or newer) only so far",
          v == &*sv ? "source" : "target", (v == &*sv ? source : target).where(), v->raw)));
    }
  }
  if (!tv->AtLeast(sv->major, sv->minor)) {
    return Fail(Error::Precondition(fmt::format(
        "target {} runs {} but source {} runs {}; a replica must not be older than its source: upgrade the target",
        target.where(), tv->raw, source.where(), sv->raw)));
  }
  return {};
}

Status CheckTarget(db::Connection& source, db::Connection& target, const CloneOptions& options) {
  auto sid = db::ReadGlobal(source, "server_id");
  auto tid = db::ReadGlobal(target, "server_id");
  if (!sid) return Fail(sid.error());
  if (!tid) return Fail(tid.error());
  if (*sid == *tid) {
    return Fail(Error::Precondition(fmt::format(
        "target {} has the same server_id ({}) as source {}; replication needs distinct ids: set server_id on the "
        "target (e.g. SET GLOBAL server_id = {} and in its config file)",
        target.where(), *tid, source.where(), std::strtoul(sid->c_str(), nullptr, 10) + 1)));
  }
  if (Status st = target.Execute("SET SESSION sql_log_bin = 0"); !st) {
    return Fail(st.error().WithContext(fmt::format(
        "target {}: the target user must be able to write without binary logging (SUPER or BINLOG ADMIN)",
        target.where())));
  }
  auto replica = replication::ReadReplicaStatus(target);
  if (!replica) {
    return Fail(replica.error().WithContext("the target user needs the REPLICATION SLAVE ADMIN (or SUPER) privilege"));
  }
  if (replica->configured && !options.adopt) {
    return Fail(Error::Precondition(fmt::format(
        "target {} is already a replica ({}); pass --adopt to keep that replication, or run STOP SLAVE; RESET SLAVE "
        "ALL on it first",
        target.where(), replica->Describe())));
  }
  if (!replica->configured && options.adopt) {
    return Fail(Error::Precondition(fmt::format(
        "target {}: --adopt needs a target that already replicates from the source, but it is not a replica",
        target.where())));
  }
  return {};
}

// Logs in to the source as the replication account and checks its grant.
Status CheckReplicationUser(db::Connection& source, const CloneOptions& options) {
  const auto& r = options.replication;
  db::Endpoint as_repl{source.endpoint().host, source.endpoint().port, r.user, r.password, source.endpoint().timeout};
  auto conn = db::Connection::Connect(as_repl);
  if (!conn && conn.error().server_errno() == kErrAccessDenied && options.create_replication_user) {
    for (const std::string& sql :
         {fmt::format("CREATE USER IF NOT EXISTS {}@'%' IDENTIFIED BY {}", source.Quote(r.user), source.Quote(r.password)),
          fmt::format("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {}@'%'", source.Quote(r.user))}) {
      if (Status st = source.Execute(sql); !st) {
        return Fail(st.error().WithContext(fmt::format("creating replication user '{}' on the source", r.user)));
      }
    }
    conn = db::Connection::Connect(as_repl);
  }
  if (!conn) {
    return Fail(Error::Precondition(fmt::format(
        "replication user '{}' cannot log in to source {}: {}. Create it (CREATE USER '{}'@'%' IDENTIFIED BY ...; "
        "GRANT REPLICATION SLAVE ON *.* TO '{}'@'%') or pass --create-replication-user",
        r.user, source.where(), conn.error().message(), r.user, r.user)));
  }
  auto grants = conn->Query("SHOW GRANTS");
  if (!grants) return Fail(grants.error());
  for (const db::Row& row : grants->rows) {
    const std::string g = row.at(0).value_or("");
    if (g.find("REPLICATION SLAVE") != std::string::npos || g.find("ALL PRIVILEGES ON *.*") != std::string::npos) {
      return {};
    }
  }
  return Fail(Error::Precondition(fmt::format(
      "replication user '{}' on source {} lacks the REPLICATION SLAVE privilege; GRANT REPLICATION SLAVE ON *.* TO it",
      r.user, source.where())));
}

// Sequences hold state that a row copy does not carry; refuse rather than
// produce a target whose NEXT VALUE FOR repeats values.
Status CheckUnsupportedTables(db::Connection& source, const std::vector<std::string>& schemas) {
  auto r = source.Query(fmt::format(
      "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_TYPE = 'SEQUENCE' "
      "AND {}",
      db::SchemaFilter(source, "TABLE_SCHEMA", schemas)));
  if (!r) return Fail(r.error());
  if (r->rows.empty()) return {};
  std::vector<std::string> names;
  for (const db::Row& row : r->rows) names.push_back(row[0].value_or(""));
  return Fail(Error::Unsupported(fmt::format(
      "source {} has sequence(s) {}; cutover clone cannot copy sequences yet: provision this target another way "
      "(e.g. mariabackup) and use --adopt",
      source.where(), Join(names))));
}

// System-versioned tables: only the current rows are copied.
Status WarnAboutHistory(db::Connection& source, PrecheckReport& report) {
  auto r = source.Query(fmt::format(
      "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_TYPE = "
      "'SYSTEM VERSIONED' AND {}",
      db::SchemaFilter(source, "TABLE_SCHEMA", report.schemas)));
  if (!r) return Fail(r.error());
  std::vector<std::string> names;
  for (const db::Row& row : r->rows) names.push_back(row[0].value_or(""));
  if (!names.empty()) {
    report.warnings.push_back(fmt::format(
        "{} system-versioned table(s): only their current rows are copied, not their history: {}", names.size(),
        Join(names)));
  }
  return {};
}

void AddTableWarnings(PrecheckReport& report) {
  std::vector<std::string> no_key, no_pk, not_innodb;
  for (const db::TableInfo& t : report.tables) {
    if (t.key_columns.empty()) no_key.push_back(t.DisplayName());
    else if (!t.has_primary_key()) no_pk.push_back(t.DisplayName());
    if (t.engine != "InnoDB") not_innodb.push_back(fmt::format("{} ({})", t.DisplayName(), t.engine));
  }
  if (!no_key.empty()) {
    report.warnings.push_back(fmt::format(
        "{} table(s) without a primary key or NOT NULL unique key: {}. Each is copied in one piece, and replication "
        "and verification of them are slow (full scans)",
        no_key.size(), Join(no_key)));
  }
  if (!no_pk.empty()) {
    report.warnings.push_back(fmt::format("{} table(s) without a primary key are ordered by a unique key: {}",
                                          no_pk.size(), Join(no_pk)));
  }
  if (!not_innodb.empty()) {
    report.warnings.push_back(fmt::format(
        "{} table(s) are not InnoDB, so the snapshot cannot make their copy consistent; stop writes to them during "
        "the copy or convert them: {}",
        not_innodb.size(), Join(not_innodb)));
  }
}

// A clone works without them, a switchover to the clone does not.
Status WarnAboutTargetBinlog(db::Connection& target, PrecheckReport& report) {
  auto r = target.Query("SELECT @@GLOBAL.log_bin, @@GLOBAL.log_slave_updates");
  if (!r) return Fail(r.error());
  if (r->rows.empty()) return {};
  if (r->rows[0][0].value_or("0") != "1" || r->rows[0][1].value_or("0") != "1") {
    report.warnings.push_back(fmt::format(
        "target {}: binary log or log_slave_updates is off; a switchover to it needs both (restart it with "
        "--log-bin --log-slave-updates), so that the old primary can follow it",
        target.where()));
  }
  return {};
}

}  // namespace

Result<PrecheckReport> RunPrechecks(db::Connection& source, db::Connection& target, const CloneOptions& options) {
  PrecheckReport report;
  if (Status st = CheckSource(source); !st) return Fail(st.error());
  if (Status st = CheckVersions(source, target); !st) return Fail(st.error());
  if (Status st = CheckTarget(source, target, options); !st) return Fail(st.error());
  auto schemas = db::ReadUserSchemas(source);
  if (!schemas) return Fail(schemas.error());
  report.schemas = *schemas;
  auto target_schemas = db::ReadUserSchemas(target);
  if (!target_schemas) return Fail(target_schemas.error());
  report.target_schemas = *target_schemas;
  auto empty = db::ReadEmptyUserSchemas(target);
  if (!empty) return Fail(empty.error());
  report.empty_target_schemas = *empty;
  std::vector<std::string> holding;
  for (const std::string& s : report.target_schemas) {
    if (std::find(empty->begin(), empty->end(), s) == empty->end()) holding.push_back(s);
  }
  if (!holding.empty() && !options.force && !options.adopt) {
    return Fail(Error::Precondition(fmt::format(
        "target {} is not empty: schema(s) {} hold tables, views, routines or events. cutover clone needs an empty "
        "target; drop them, or pass --force to drop and re-create the source's schemas there (other schemas are "
        "left alone)",
        target.where(), Join(holding))));
  }
  if (Status st = WarnAboutTargetBinlog(target, report); !st) return Fail(st.error());
  if (Status st = CheckUnsupportedTables(source, report.schemas); !st) return Fail(st.error());
  auto tables = db::ReadTables(source, report.schemas);
  if (!tables) return Fail(tables.error());
  report.tables = std::move(*tables);
  AddTableWarnings(report);
  if (Status st = WarnAboutHistory(source, report); !st) return Fail(st.error());
  // Last, because it is the one check that may change something (on request).
  if (Status st = CheckReplicationUser(source, options); !st) return Fail(st.error());
  return report;
}

}  // namespace cutover::clone
