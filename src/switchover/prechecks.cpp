#include "switchover/prechecks.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "replication/replica.h"
#include "switchover/abandoned_move.h"

namespace cutover::switchover {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < 10; ++i) out += (i ? "; " : "") + items[i];
  if (items.size() > 10) out += fmt::format("; and {} more", items.size() - 10);
  return out;
}

Status CheckReplication(const SwitchoverOptions& options, const ServerRole& from, db::Connection& to_conn) {
  auto status = replication::ReadReplicaStatus(to_conn);
  // Right after a move (or a restart) the replica's IO thread is still
  // connecting ("Preparing", "Connecting"): give it kConnectGrace to get there
  // instead of refusing a rollback run straight after a switchover.
  constexpr std::chrono::seconds kConnectGrace{5};
  const auto deadline = std::chrono::steady_clock::now() + kConnectGrace;
  while (status && !status->running() && status->sql_running == "Yes" &&
         (status->io_running == "Preparing" || status->io_running == "Connecting") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = replication::ReadReplicaStatus(to_conn);
  }
  if (!status) return Fail(status.error());
  if (!status->running()) {
    return Fail(Error::Precondition(fmt::format("{} {}: {}; it must replicate from the primary to take over",
                                                "new primary", to_conn.where(), status->Describe())));
  }
  if (status->source_host != from.repl_host || status->source_port != from.repl_port) {
    return Fail(Error::Precondition(fmt::format("{} replicates from {}:{}, not from the primary {}:{}",
                                                to_conn.where(), status->source_host, status->source_port,
                                                from.repl_host, from.repl_port)));
  }
  if (!status->seconds_behind || *status->seconds_behind > options.max_lag_seconds) {
    return Fail(Error::Precondition(fmt::format(
        "{} is {} s behind the primary (the limit is {} s); wait for it to catch up", to_conn.where(),
        status->seconds_behind ? std::to_string(*status->seconds_behind) : "?", options.max_lag_seconds)));
  }
  return {};
}

// The new primary's binary log must hold every transaction the old primary
// wrote (log_slave_updates) and none of its own (errant ones): the old
// primary and other replicas follow it by GTID after the move.
Status CheckGtidHygiene(db::Connection& from_conn, db::Connection& to_conn) {
  auto updates = to_conn.QueryValue("SELECT @@GLOBAL.log_slave_updates");
  if (!updates) return Fail(updates.error());
  if (*updates != "1") {
    return Fail(Error::Precondition(fmt::format(
        "{}: log_slave_updates is off, so its binary log lacks what it replicated and the old primary could not "
        "follow it by GTID after the move; restart it with --log-slave-updates",
        to_conn.where())));
  }
  auto errant = replication::ErrantGtids(to_conn, from_conn);
  if (!errant) return Fail(errant.error());
  if (!errant->empty()) return Fail(replication::ErrantGtidsError(to_conn, from_conn, *errant));
  return {};
}

Status CheckNoDdl(db::Connection& conn) {
  auto r = conn.Query(fmt::format(
      "SELECT ID, USER, LEFT(INFO, 80) FROM information_schema.PROCESSLIST WHERE COMMAND IN ('Query','Execute') "
      "AND ID <> {} AND INFO REGEXP '^[[:space:]]*(ALTER|CREATE|DROP|RENAME|TRUNCATE|OPTIMIZE|REPAIR)[[:space:]]'",
      conn.thread_id()));
  if (!r) return Fail(r.error());
  if (r->rows.empty()) return {};
  std::vector<std::string> ddl;
  for (const db::Row& row : r->rows) {
    ddl.push_back(fmt::format("id {} ({}): {}", row[0].value_or(""), row[1].value_or(""), row[2].value_or("")));
  }
  return Fail(Error::Precondition(
      fmt::format("{}: DDL is running ({}); wait for it to finish before moving the primary", conn.where(), Join(ddl))));
}

Status CheckUsers(const SwitchoverOptions& options, db::Connection& to_conn) {
  std::vector<std::string> missing;
  for (const ProxyUserHash& u : options.proxy_users) {
    auto n = to_conn.QueryValue(fmt::format(
        "SELECT COUNT(*) FROM mysql.user WHERE User = {} AND (Password = {} OR authentication_string = {})",
        to_conn.Quote(u.name), to_conn.Quote(u.hash), to_conn.Quote(u.hash)));
    if (!n) return Fail(n.error().WithContext("checking the proxy's users (needs SELECT on mysql.user)"));
    if (*n == "0") missing.push_back(u.name);
  }
  if (missing.empty()) return {};
  std::string names;
  for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
  return Fail(Error::Precondition(fmt::format(
      "{}: proxy user(s) {} cannot log in there with the proxy's password (missing or a different password); copy "
      "them (cutover clone --with-users) or CREATE USER them",
      to_conn.where(), names)));
}

Status CheckProxy(const SwitchoverOptions& options, const ServerRole& from, ProxyAdmin& proxy) {
  auto status = proxy.Status();
  if (!status) return Fail(status.error().WithContext("the proxy must be reachable"));
  const std::string primary = (*status)["primary"].get<std::string>();
  const std::string expected = fmt::format("{}:{}", from.admin.host, from.admin.port);
  if (primary != expected) {
    return Fail(Error::Precondition(
        fmt::format("proxy {} sends clients to {}, not to the primary {} ({}); check the state files",
                    proxy.address().ToString(), primary, expected, from.role)));
  }
  if ((*status)["paused"].get<bool>()) {
    return Fail(Error::Precondition(fmt::format("proxy {} is paused; is another move running? POST /resume if not",
                                                proxy.address().ToString())));
  }
  if (!options.close_pinned) {
    std::vector<std::string> pinned;
    for (const auto& s : (*status)["sessions"]) {
      if (s["pinned"].get<bool>()) {
        pinned.push_back(fmt::format("session {} ({} from {}): {}", s["id"].get<int>(), s["user"].get<std::string>(),
                                     s["client"].get<std::string>(), s["pin_reasons"].get<std::string>()));
      }
    }
    if (!pinned.empty()) {
      return Fail(Error::Precondition(fmt::format(
          "{} session(s) hold state that cannot move ({}); end them, or pass --close-pinned to close them with an "
          "error",
          pinned.size(), Join(pinned))));
    }
  }
  return {};
}

}  // namespace

Result<std::vector<std::string>> OpenTransactions(db::Connection& conn, int64_t seconds) {
  auto r = conn.Query(fmt::format(
      "SELECT t.trx_mysql_thread_id, IFNULL(p.USER,''), IFNULL(p.HOST,''), TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) "
      "FROM information_schema.INNODB_TRX t LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
      "WHERE t.trx_mysql_thread_id <> {} AND t.trx_started <= NOW() - INTERVAL {} SECOND",
      conn.thread_id(), seconds));
  if (!r) return Fail(r.error());
  std::vector<std::string> out;
  for (const db::Row& row : r->rows) {
    out.push_back(fmt::format("id {} ({}@{}, {} s)", row[0].value_or(""), row[1].value_or(""), row[2].value_or(""),
                              row[3].value_or("")));
  }
  return out;
}

Result<std::vector<std::string>> KillOpenTransactions(db::Connection& conn,
                                                      const std::function<Result<std::vector<uint64_t>>()>& spare) {
  // INNODB_TRX alone first: joining PROCESSLIST materializes a row per
  // connection (thousands behind a proxy), and usually nothing is open.
  const std::string open_sql = fmt::format(
      "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id NOT IN (0, {})", conn.thread_id());
  auto open = conn.QueryValue(open_sql);
  if (!open) return Fail(open.error());
  std::vector<std::string> killed;
  if (open->value_or("0") == "0") return killed;
  auto r = conn.Query(fmt::format(
      "SELECT t.trx_mysql_thread_id, IFNULL(p.USER,''), IFNULL(p.HOST,''), IFNULL(LEFT(p.INFO, 60),''), t.trx_state "
      "FROM information_schema.INNODB_TRX t LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
      "WHERE t.trx_mysql_thread_id NOT IN (0, {})",
      conn.thread_id()));
  if (!r) return Fail(r.error());
  auto excluded = spare();
  if (!excluded) return Fail(excluded.error());
  std::vector<std::string> seen;  // INNODB_TRX can list a connection twice
  for (const db::Row& row : r->rows) {
    const std::string id = row[0].value_or("0");
    if (std::find(excluded->begin(), excluded->end(), std::strtoull(id.c_str(), nullptr, 10)) != excluded->end() ||
        std::find(seen.begin(), seen.end(), id) != seen.end()) {
      continue;
    }
    seen.push_back(id);
    constexpr int kErrNoSuchThread = 1094;
    Status st = conn.Execute("KILL CONNECTION " + id);
    if (!st && st.error().server_errno() != kErrNoSuchThread) return Fail(st.error());
    if (st) {
      killed.push_back(fmt::format("id {} ({}@{}, {}: {})", id, row[1].value_or(""), row[2].value_or(""),
                                   row[4].value_or(""), row[3].value_or("")));
    }
  }
  return killed;
}

Result<std::vector<std::string>> KillFenceWaiters(db::Connection& conn, uint64_t fence_id) {
  auto r = conn.Query(fmt::format(
      "SELECT ID, USER, HOST, IFNULL(LEFT(INFO, 60), '') FROM information_schema.PROCESSLIST "
      "WHERE STATE LIKE 'Waiting for backup lock%' AND ID NOT IN (CONNECTION_ID(), {}) "
      "AND COMMAND NOT LIKE 'Slave%' AND USER <> 'system user'",  // a resumed move's reverse replication
      fence_id));
  if (!r) return Fail(r.error());
  std::vector<std::string> killed;
  std::vector<uint64_t> ids;
  for (const db::Row& row : r->rows) {
    const std::string id = row[0].value_or("0");
    ids.push_back(std::strtoull(id.c_str(), nullptr, 10));
    killed.push_back(fmt::format("id {} ({}@{}: {})", id, row[1].value_or(""), row[2].value_or(""), row[3].value_or("")));
  }
  // Until they are gone: a killed session still waiting when the fence lifts
  // is granted its lock and commits (seen with DROP TABLE).
  if (Status st = EndConnections(conn, ids); !st) return Fail(st.error());
  return killed;
}

Status CheckBeforeMove(const SwitchoverOptions& options, const ServerRole& from, const ServerRole& to,
                       db::Connection& from_conn, db::Connection& to_conn, ProxyAdmin& proxy) {
  // First: an errant transaction also stops replication (gtid_strict_mode),
  // and naming it says more than "replication is not running".
  if (Status st = CheckGtidHygiene(from_conn, to_conn); !st) return st;
  if (Status st = CheckReplication(options, from, to_conn); !st) return st;
  auto open = OpenTransactions(from_conn, options.max_transaction_seconds);
  if (!open) return Fail(open.error());
  if (!open->empty() && !options.kill_open_transactions) {
    return Fail(Error::Precondition(fmt::format(
        "{}: transaction(s) open longer than {} s: {}; wait for them, or pass --kill-open-transactions",
        from_conn.where(), options.max_transaction_seconds, Join(*open))));
  }
  for (db::Connection* c : {&from_conn, &to_conn}) {
    if (Status st = CheckNoDdl(*c); !st) return st;
  }
  auto read_only = to_conn.QueryValue("SELECT @@GLOBAL.read_only");
  if (!read_only) return Fail(read_only.error());
  if (*read_only != "1") {
    return Fail(Error::Precondition(fmt::format(
        "{} is writable while it replicates; SET GLOBAL read_only = ON on it first (cutover clone does), so that "
        "nothing but replication writes there before the move",
        to_conn.where())));
  }
  auto log_bin = to_conn.QueryValue("SELECT @@GLOBAL.log_bin");
  if (!log_bin) return Fail(log_bin.error());
  if (*log_bin != "1") {
    return Fail(Error::Precondition(fmt::format(
        "{}: the binary log is off, so the old primary could not follow it (no rollback); restart it with --log-bin",
        to_conn.where())));
  }
  if (Status st = CheckUsers(options, to_conn); !st) return st;
  db::Endpoint as_repl{to.admin.host, to.admin.port, options.repl_user, options.repl_password, to.admin.timeout};
  if (auto repl = db::Connection::Connect(as_repl); !repl) {
    return Fail(Error::Precondition(fmt::format(
        "replication user '{}' cannot log in to {}: {}; the old primary needs it to follow the new one (copy it "
        "with cutover clone --with-users)",
        options.repl_user, to_conn.where(), repl.error().message())));
  }
  return CheckProxy(options, from, proxy);
}

}  // namespace cutover::switchover
