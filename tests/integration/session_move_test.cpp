// Pause, drain and re-point: sessions move between two servers with their
// state intact, and what cannot move is reported, never moved silently.
#include <mysql.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "proxy/state_file.h"
#include "proxy_fixture.h"

namespace cutover::testing {
namespace {

// A raw Connector/C connection, for prepared statements and session state.
class RawClient {
 public:
  RawClient(uint16_t port) : mysql_(mysql_init(nullptr)) {
    ok_ = mysql_real_connect(mysql_, "127.0.0.1", kAppUser, kAppPassword, nullptr, port, nullptr, 0) != nullptr;
  }
  ~RawClient() { mysql_close(mysql_); }
  bool connected() const { return ok_; }
  MYSQL* get() { return mysql_; }
  std::string error() { return fmt::format("{} ({})", mysql_error(mysql_), mysql_errno(mysql_)); }

  // Runs a statement; returns the first row's columns joined by '|', or "ERR <errno>".
  std::string Query(const std::string& sql) {
    if (mysql_query(mysql_, sql.c_str()) != 0) return fmt::format("ERR {}", mysql_errno(mysql_));
    MYSQL_RES* res = mysql_store_result(mysql_);
    if (!res) return "";
    std::string out;
    if (MYSQL_ROW row = mysql_fetch_row(res)) {
      for (unsigned i = 0; i < mysql_num_fields(res); ++i) {
        if (i) out += "|";
        out += row[i] ? row[i] : "NULL";
      }
    }
    mysql_free_result(res);
    return out;
  }

 private:
  MYSQL* mysql_;
  bool ok_ = false;
};

// A server-side prepared "SELECT @@server_id, ? + 1".
class ServerIdStatement {
 public:
  explicit ServerIdStatement(MYSQL* mysql) : stmt_(mysql_stmt_init(mysql)) {
    const std::string sql = "SELECT @@server_id, ? + 1";
    prepared_ = mysql_stmt_prepare(stmt_, sql.c_str(), sql.size()) == 0;
  }
  ~ServerIdStatement() { mysql_stmt_close(stmt_); }
  bool prepared() const { return prepared_; }
  unsigned long id() const { return stmt_->stmt_id; }
  std::string error() { return mysql_stmt_error(stmt_); }

  // Returns "server_id|param+1" or "ERR ...".
  std::string Execute(long long param) {
    MYSQL_BIND in{};
    in.buffer_type = MYSQL_TYPE_LONGLONG;
    in.buffer = &param;
    if (mysql_stmt_bind_param(stmt_, &in) || mysql_stmt_execute(stmt_)) return "ERR " + error();
    long long server_id = 0, result = 0;
    MYSQL_BIND out[2]{};
    out[0].buffer_type = out[1].buffer_type = MYSQL_TYPE_LONGLONG;
    out[0].buffer = &server_id;
    out[1].buffer = &result;
    if (mysql_stmt_bind_result(stmt_, out) || mysql_stmt_fetch(stmt_)) return "ERR " + error();
    mysql_stmt_free_result(stmt_);
    return fmt::format("{}|{}", server_id, result);
  }

 private:
  MYSQL_STMT* stmt_;
  bool prepared_ = false;
};

class SessionMoveTest : public ProxyAndTargetTest {
 protected:
  std::string RepointBody(const std::string& pinned = "refuse") const {
    return fmt::format(R"({{"host": "127.0.0.1", "port": {}, "pinned": "{}"}})", target_->port(), pinned);
  }
};

TEST_F(SessionMoveTest, SessionKeepsItsStateAndStatementsAcrossServers) {
  StartProxy(DefaultConfig());
  RawClient client(proxy_->listen_port());
  ASSERT_TRUE(client.connected()) << client.error();
  for (const char* sql : {"SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES'", "SET time_zone = '+05:30'",
                          "USE app", "SET NAMES latin1", "SET SESSION autocommit = 0", "SET SESSION wait_timeout = 1234",
                          "SET SESSION lock_wait_timeout = 77"}) {
    ASSERT_EQ(client.Query(sql), "") << sql;
  }
  ServerIdStatement statement(client.get());
  ASSERT_TRUE(statement.prepared()) << statement.error();
  const unsigned long client_statement_id = statement.id();
  EXPECT_EQ(statement.Execute(41), "1|42");
  ASSERT_EQ(client.Query("COMMIT"), "");

  // The session's standby on the target is made now (re-preparing under a
  // short lock_wait_timeout, then the session's own 77 again); the re-point
  // swaps it in.
  auto prepare = Admin("POST", "/prepare", RepointBody());
  ASSERT_EQ(prepare.status, 200) << prepare.body.dump();
  EXPECT_EQ(prepare.body["warmed"], 1) << prepare.body.dump();
  auto pause = Admin("POST", "/pause", R"({"drain_timeout_ms": 2000})");
  ASSERT_EQ(pause.status, 200) << pause.body.dump();
  EXPECT_TRUE(pause.body["drained"]) << pause.body.dump();
  auto repoint = Admin("POST", "/repoint", RepointBody());
  ASSERT_EQ(repoint.status, 200) << repoint.body.dump();
  EXPECT_EQ(repoint.body["moved"], 1);
  ASSERT_EQ(Admin("POST", "/resume").status, 200);

  // The same client connection, now on the target.
  EXPECT_EQ(client.Query("SELECT @@server_id"), "2");
  EXPECT_EQ(client.Query("SELECT @@session.sql_mode"), "ANSI_QUOTES,STRICT_ALL_TABLES");
  EXPECT_EQ(client.Query("SELECT @@session.time_zone"), "+05:30");
  EXPECT_EQ(client.Query("SELECT DATABASE()"), "app");
  EXPECT_EQ(client.Query("SELECT @@character_set_client, @@character_set_results"), "latin1|latin1");
  EXPECT_EQ(client.Query("SELECT @@autocommit, @@wait_timeout, @@lock_wait_timeout"), "0|1234|77");
  EXPECT_EQ(statement.id(), client_statement_id);
  EXPECT_EQ(statement.Execute(1), "2|2");
  EXPECT_EQ(statement.Execute(99), "2|100");

  auto status = Admin("GET", "/status");
  EXPECT_EQ(status.body["primary"], fmt::format("127.0.0.1:{}", target_->port()));
  // New sessions go to the new primary too.
  RawClient fresh(proxy_->listen_port());
  ASSERT_TRUE(fresh.connected()) << fresh.error();
  EXPECT_EQ(fresh.Query("SELECT @@server_id"), "2");
}

// The variables the server reported to the client after its last statement
// (SESSION_TRACK_SYSTEM_VARIABLES), as "name=value" joined by ','.
std::string TrackedVariables(MYSQL* mysql) {
  std::string out;
  const char* data = nullptr;
  size_t length = 0;
  if (mysql_session_track_get_first(mysql, SESSION_TRACK_SYSTEM_VARIABLES, &data, &length) != 0) return out;
  bool name = true;
  do {
    out += (name ? (out.empty() ? "" : ",") : "=") + std::string(data, length);
    name = !name;
  } while (mysql_session_track_get_next(mysql, SESSION_TRACK_SYSTEM_VARIABLES, &data, &length) == 0);
  return out;
}

// MariaDB Connector/J (rewriteBatchedStatements=true) sets
// session_track_system_variables to one variable at connect. The proxy still
// sees every change it needs, so time_zone and sql_mode move with the session;
// the client is told only of the variable it named.
TEST_F(SessionMoveTest, ClientThatNarrowsSessionTrackingKeepsEveryVariableAcrossServers) {
  StartProxy(DefaultConfig());
  RawClient client(proxy_->listen_port());
  ASSERT_TRUE(client.connected()) << client.error();
  ASSERT_TRUE(client.get()->server_capabilities & CLIENT_SESSION_TRACKING);
  ASSERT_EQ(client.Query("SET SESSION session_track_system_variables = 'auto_increment_increment'"), "");
  ASSERT_EQ(client.Query("SET time_zone = '+05:30'"), "");
  EXPECT_EQ(TrackedVariables(client.get()), "") << "the client does not track time_zone";
  ASSERT_EQ(client.Query("SET SESSION sql_mode = 'ANSI_QUOTES'"), "");
  EXPECT_EQ(TrackedVariables(client.get()), "");
  ASSERT_EQ(client.Query("SET SESSION auto_increment_increment = 3"), "");
  EXPECT_EQ(TrackedVariables(client.get()), "auto_increment_increment=3");

  ASSERT_EQ(Admin("POST", "/pause", R"({"drain_timeout_ms": 2000})").status, 200);
  auto repoint = Admin("POST", "/repoint", RepointBody());
  ASSERT_EQ(repoint.status, 200) << repoint.body.dump();
  EXPECT_EQ(repoint.body["moved"], 1);
  ASSERT_EQ(Admin("POST", "/resume").status, 200);

  EXPECT_EQ(client.Query("SELECT @@server_id"), "2");
  EXPECT_EQ(client.Query("SELECT @@session.time_zone, @@session.sql_mode, @@session.auto_increment_increment"),
            "+05:30|ANSI_QUOTES|3");
  // Still narrowed for the client after the move.
  ASSERT_EQ(client.Query("SET time_zone = '+01:00'"), "");
  EXPECT_EQ(TrackedVariables(client.get()), "");
  ASSERT_EQ(client.Query("SET SESSION auto_increment_increment = 5"), "");
  EXPECT_EQ(TrackedVariables(client.get()), "auto_increment_increment=5");
}

TEST_F(SessionMoveTest, PinnedSessionIsReportedAndClosedOnlyWhenAsked) {
  StartProxy(DefaultConfig());
  RawClient pinned(proxy_->listen_port()), plain(proxy_->listen_port());
  ASSERT_TRUE(pinned.connected() && plain.connected());
  ASSERT_EQ(pinned.Query("CREATE TEMPORARY TABLE app.scratch (id INT)"), "");
  ASSERT_EQ(plain.Query("SELECT 1"), "1");

  ASSERT_TRUE(Admin("POST", "/pause").body["drained"]);
  auto refused = Admin("POST", "/repoint", RepointBody("refuse"));
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body["error"].get<std::string>().find("temporary table"), std::string::npos) << refused.body.dump();
  auto status = Admin("GET", "/status");
  EXPECT_EQ(status.body["pinned"], 1);
  EXPECT_EQ(status.body["paused"], true);

  auto closed = Admin("POST", "/repoint", RepointBody("close"));
  ASSERT_EQ(closed.status, 200) << closed.body.dump();
  EXPECT_EQ(closed.body["moved"], 1);
  EXPECT_EQ(closed.body["closed"].size(), 1u);
  ASSERT_EQ(Admin("POST", "/resume").status, 200);

  EXPECT_EQ(plain.Query("SELECT @@server_id"), "2");
  EXPECT_EQ(pinned.Query("SELECT 1"), "ERR 1927");
  EXPECT_NE(std::string(mysql_error(pinned.get())).find("state cannot move"), std::string::npos)
      << mysql_error(pinned.get());
}

TEST_F(SessionMoveTest, OpenTransactionBlocksTheDrainUntilItEnds) {
  StartProxy(DefaultConfig());
  RawClient writer(proxy_->listen_port());
  ASSERT_TRUE(writer.connected());
  ASSERT_EQ(writer.Query("CREATE TABLE app.t (id INT PRIMARY KEY)"), "");
  ASSERT_EQ(writer.Query("BEGIN"), "");
  ASSERT_EQ(writer.Query("INSERT INTO app.t VALUES (1)"), "");

  auto pause = Admin("POST", "/pause", R"({"drain_timeout_ms": 200})");
  ASSERT_EQ(pause.status, 200);
  EXPECT_FALSE(pause.body["drained"]);
  ASSERT_EQ(pause.body["busy"].size(), 1u);
  EXPECT_EQ(pause.body["busy"][0]["busy_reason"], "open transaction");
  EXPECT_EQ(Admin("POST", "/repoint", RepointBody()).status, 409);

  // The transaction may finish while paused; then the drain succeeds.
  ASSERT_EQ(writer.Query("COMMIT"), "");
  EXPECT_TRUE(Admin("POST", "/pause", R"({"drain_timeout_ms": 2000})").body["drained"]);
  ASSERT_EQ(Admin("POST", "/resume").status, 200);
  EXPECT_EQ(writer.Query("SELECT COUNT(*) FROM app.t"), "1");
}

TEST_F(SessionMoveTest, PauseHoldsNewTransactionsAndEndsByItselfAtMaxPause) {
  auto config = DefaultConfig();
  config.max_pause = std::chrono::milliseconds(400);
  StartProxy(config);
  RawClient client(proxy_->listen_port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(Admin("POST", "/pause").body["drained"]);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.Query("SELECT @@server_id"), "1");  // held, then served by the old primary
  const auto held = std::chrono::steady_clock::now() - start;
  EXPECT_GE(held, std::chrono::milliseconds(300));
  EXPECT_LT(held, std::chrono::milliseconds(3000));
  EXPECT_EQ(Admin("GET", "/status").body["paused"], false);
}

TEST_F(SessionMoveTest, FailedRepointMovesNothing) {
  StartProxy(DefaultConfig());
  RawClient client(proxy_->listen_port());
  ASSERT_TRUE(client.connected());
  ASSERT_EQ(client.Query("USE app"), "");
  // The target lacks the session's schema, so the session cannot be rebuilt there.
  auto root = target_->ConnectRoot();
  ASSERT_TRUE(root);
  ASSERT_TRUE(root->Execute("DROP DATABASE app"));
  ASSERT_TRUE(Admin("POST", "/pause").body["drained"]);
  auto repoint = Admin("POST", "/repoint", RepointBody());
  EXPECT_EQ(repoint.status, 500);
  EXPECT_NE(repoint.body["error"].get<std::string>().find("nothing moved"), std::string::npos) << repoint.body.dump();
  ASSERT_EQ(Admin("POST", "/resume").status, 200);
  EXPECT_EQ(client.Query("SELECT @@server_id"), "1");
  EXPECT_EQ(Admin("GET", "/status").body["primary"], fmt::format("127.0.0.1:{}", source_->port()));
}

TEST_F(SessionMoveTest, PrimarySurvivesAProxyRestart) {
  const std::string state_file = ::testing::TempDir() + "/cutover-state-" + std::to_string(::getpid());
  std::filesystem::remove(state_file);
  auto config = DefaultConfig();
  config.state_file = state_file;
  StartProxy(config);
  ASSERT_TRUE(Admin("POST", "/pause").body["drained"]);
  ASSERT_EQ(Admin("POST", "/repoint", RepointBody()).status, 200);
  ASSERT_EQ(Admin("POST", "/resume").status, 200);
  proxy_->Stop();
  admin_.reset();
  proxy_.reset();

  StartProxy(config);  // [source] still names the old server
  RawClient client(proxy_->listen_port());
  ASSERT_TRUE(client.connected()) << client.error();
  EXPECT_EQ(client.Query("SELECT @@server_id"), "2");
  std::filesystem::remove(state_file);
}

TEST_F(SessionMoveTest, AdminApiNeedsTheToken) {
  StartProxy(DefaultConfig());
  EXPECT_EQ(Http(admin_->port(), "GET", "/status", "", "wrong").status, 401);
  EXPECT_EQ(Http(admin_->port(), "POST", "/pause", "", "").status, 401);
  EXPECT_EQ(Admin("GET", "/status").body["paused"], false);
  EXPECT_EQ(Admin("POST", "/repoint", "{\"host\": 1}").status, 400);
  EXPECT_EQ(Admin("GET", "/nope").status, 404);
}

}  // namespace
}  // namespace cutover::testing
