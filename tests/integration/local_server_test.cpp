// Real mariadbd servers started by src/local, and the db::Connection that
// talks to them.
#include "local/local_server.h"

#include <signal.h>

#include <filesystem>
#include <future>
#include <string>

#include <gtest/gtest.h>

#include "db/connection.h"
#include "db/flavor.h"

namespace cutover::local {
namespace {

// Starts a server or fails the test: a server that cannot start is a failure, never a skip.
std::unique_ptr<LocalServer> StartOrDie(LocalServerOptions options) {
  auto server = LocalServer::Start(std::move(options));
  if (!server) {
    ADD_FAILURE() << server.error().message();
    return nullptr;
  }
  return std::move(*server);
}

std::string Value(db::Connection& conn, std::string_view sql) {
  auto value = conn.QueryValue(sql);
  EXPECT_TRUE(value.has_value()) << sql << ": " << value.error().message();
  if (!value || !value->has_value()) return "<NULL>";
  return **value;
}

TEST(LocalServerTest, TwoServersStartedFromWorkerThreadsRunSideBySide) {
  // Started on std::async threads that end right away: the servers must
  // outlive the threads that started them.
  auto a_future = std::async(std::launch::async, [] { return StartOrDie({.server_id = 11, .name = "a"}); });
  auto b_future = std::async(std::launch::async, [] { return StartOrDie({.server_id = 12, .name = "b"}); });
  std::unique_ptr<LocalServer> a = a_future.get();
  std::unique_ptr<LocalServer> b = b_future.get();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->port(), b->port());
  EXPECT_NE(a->datadir(), b->datadir());

  for (auto* server : {a.get(), b.get()}) {
    auto conn = server->ConnectRoot();
    ASSERT_TRUE(conn.has_value()) << conn.error().message();
    EXPECT_EQ(Value(*conn, "SELECT @@server_id"), std::to_string(server->options().server_id));
    EXPECT_EQ(Value(*conn, "SELECT @@log_bin"), "1");
    EXPECT_EQ(Value(*conn, "SELECT @@binlog_format"), "ROW");
    EXPECT_EQ(Value(*conn, "SELECT @@gtid_strict_mode"), "1");
    // Setting up root must leave no transaction in the binary log.
    EXPECT_EQ(Value(*conn, "SELECT @@gtid_binlog_pos"), "");
    ASSERT_TRUE(conn->Execute("CREATE DATABASE app"));
    ASSERT_TRUE(conn->Execute("CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))"));
    ASSERT_TRUE(conn->Execute("INSERT INTO app.t VALUES (1, 'one'), (2, NULL)"));
    EXPECT_EQ(conn->affected_rows(), 2u);
    auto rows = conn->Query("SELECT id, v FROM app.t ORDER BY id");
    ASSERT_TRUE(rows.has_value()) << rows.error().message();
    ASSERT_EQ(rows->columns, (std::vector<std::string>{"id", "v"}));
    ASSERT_EQ(rows->rows.size(), 2u);
    EXPECT_EQ(rows->rows[0], (db::Row{"1", "one"}));
    EXPECT_EQ(rows->rows[1], (db::Row{"2", std::nullopt}));
    auto version = db::GetServerVersion(*conn);
    ASSERT_TRUE(version.has_value()) << version.error().message();
    EXPECT_EQ(version->flavor, db::Flavor::kMariaDB);
    EXPECT_TRUE(version->AtLeast(10, 4));
  }
}

TEST(LocalServerTest, KilledServerRefusesConnectionsAndRestartsWithItsData) {
  auto server = StartOrDie({.name = "crash"});
  ASSERT_TRUE(server);
  {
    auto conn = server->ConnectRoot();
    ASSERT_TRUE(conn.has_value()) << conn.error().message();
    ASSERT_TRUE(conn->Execute("CREATE TABLE mysql.cutover_probe (id INT PRIMARY KEY) ENGINE=InnoDB"));
    ASSERT_TRUE(conn->Execute("INSERT INTO mysql.cutover_probe VALUES (42)"));
  }
  uint16_t port = server->port();
  pid_t old_pid = server->pid();

  server->Kill();
  EXPECT_FALSE(server->running());
  EXPECT_EQ(server->pid(), -1);
  EXPECT_NE(kill(old_pid, 0), 0) << "the killed mariadbd is still there";
  auto refused = server->ConnectRoot();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kIo) << refused.error().message();
  EXPECT_NE(refused.error().message().find(server->RootEndpoint().ToString()), std::string::npos)
      << refused.error().message();

  auto restarted = server->Restart();
  ASSERT_TRUE(restarted.has_value()) << restarted.error().message();
  EXPECT_TRUE(server->running());
  EXPECT_EQ(server->port(), port);
  auto conn = server->ConnectRoot();
  ASSERT_TRUE(conn.has_value()) << conn.error().message();
  EXPECT_EQ(Value(*conn, "SELECT id FROM mysql.cutover_probe"), "42");
}

TEST(LocalServerTest, StopIsCleanAndRestartComesBack) {
  auto server = StartOrDie({.name = "stop"});
  ASSERT_TRUE(server);
  auto stopped = server->Stop();
  ASSERT_TRUE(stopped.has_value()) << stopped.error().message();
  EXPECT_FALSE(server->running());
  EXPECT_TRUE(server->Stop().has_value()) << "stopping a stopped server is a no-op";
  auto restarted = server->Restart();
  ASSERT_TRUE(restarted.has_value()) << restarted.error().message();
  auto conn = server->ConnectRoot();
  ASSERT_TRUE(conn.has_value()) << conn.error().message();
}

TEST(LocalServerTest, DestructorStopsTheServerAndRemovesItsDirectory) {
  auto server = StartOrDie({.name = "gone"});
  ASSERT_TRUE(server);
  std::filesystem::path dir = std::filesystem::path(server->datadir()).parent_path();
  ASSERT_TRUE(std::filesystem::exists(dir));
  EXPECT_EQ(dir.filename().string().rfind("cutover-gone-", 0), 0u) << dir;
  pid_t pid = server->pid();
  db::Endpoint endpoint = server->RootEndpoint();

  server.reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_NE(kill(pid, 0), 0) << "mariadbd outlived its LocalServer";
  auto refused = db::Connection::Connect(endpoint);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kIo);
}

TEST(LocalServerTest, BinlogOffIsReported) {
  auto server = StartOrDie({.binlog = false, .name = "nobinlog"});
  ASSERT_TRUE(server);
  auto conn = server->ConnectRoot();
  ASSERT_TRUE(conn.has_value()) << conn.error().message();
  EXPECT_EQ(Value(*conn, "SELECT @@log_bin"), "0");
}

TEST(LocalServerTest, InvalidArgumentFailsWithTheErrorLog) {
  auto server = LocalServer::Start({.extra_args = {"--cutover-no-such-option"}, .name = "badarg"});
  ASSERT_FALSE(server.has_value());
  const std::string& message = server.error().message();
  EXPECT_EQ(server.error().code(), ErrorCode::kIo);
  EXPECT_NE(message.find("local server 'badarg' (127.0.0.1:"), std::string::npos) << message;
  EXPECT_NE(message.find("failed to start"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown option '--cutover-no-such-option'"), std::string::npos) << message;
}

// db::Connection behaviour that needs a real server.
class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartOrDie({.name = "conn"});
    ASSERT_TRUE(server_);
  }
  std::unique_ptr<LocalServer> server_;
};

TEST_F(ConnectionTest, WrongPasswordIsAServerErrorNamingTheEndpoint) {
  db::Endpoint endpoint = server_->RootEndpoint();
  endpoint.password = "wrong";
  auto conn = db::Connection::Connect(endpoint);
  ASSERT_FALSE(conn.has_value());
  EXPECT_EQ(conn.error().code(), ErrorCode::kServer);
  EXPECT_EQ(conn.error().server_errno(), 1045);
  EXPECT_EQ(conn.error().sql_state(), "28000");
  EXPECT_EQ(conn.error().message().rfind(endpoint.ToString() + ": Access denied for user 'root'", 0), 0u)
      << conn.error().message();
}

TEST_F(ConnectionTest, SqlErrorsCarryErrnoAndSqlState) {
  auto conn = server_->ConnectRoot();
  ASSERT_TRUE(conn.has_value()) << conn.error().message();
  auto missing = conn->Query("SELECT * FROM no_such_db.t");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kServer);
  EXPECT_EQ(missing.error().server_errno(), 1146);
  EXPECT_EQ(missing.error().sql_state(), "42S02");
  // Multi-statements are off.
  auto multi = conn->Execute("SELECT 1; SELECT 2");
  ASSERT_FALSE(multi.has_value());
  EXPECT_EQ(multi.error().code(), ErrorCode::kServer);
  // The connection is still usable after errors, and after Execute() of a SELECT.
  ASSERT_TRUE(conn->Execute("SELECT 1 UNION SELECT 2"));
  EXPECT_EQ(Value(*conn, "SELECT 7"), "7");
}

TEST_F(ConnectionTest, QueryValueWithoutARowIsAPreconditionError) {
  auto conn = server_->ConnectRoot();
  ASSERT_TRUE(conn.has_value()) << conn.error().message();
  auto value = conn->QueryValue("SELECT 1 FROM DUAL WHERE 1 = 0");
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().code(), ErrorCode::kPrecondition);
  auto null = conn->QueryValue("SELECT NULL");
  ASSERT_TRUE(null.has_value());
  EXPECT_FALSE(null->has_value());
}

TEST_F(ConnectionTest, QuoteAndQuoteIdentifierRoundTrip) {
  auto conn = server_->ConnectRoot();
  ASSERT_TRUE(conn.has_value()) << conn.error().message();
  const std::string tricky = std::string("it's a \"test\" \\ with\nnewline and \0 nul", 36);
  EXPECT_EQ(Value(*conn, "SELECT " + conn->Quote(tricky)), tricky);
  EXPECT_EQ(db::QuoteIdentifier("a`b"), "`a``b`");
  const std::string schema = "we`ird db";
  ASSERT_TRUE(conn->Execute("CREATE DATABASE " + db::QuoteIdentifier(schema)));
  EXPECT_EQ(Value(*conn, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = " +
                             conn->Quote(schema)),
            schema);
}

TEST_F(ConnectionTest, UnixSocketAndDefaultDatabase) {
  {
    auto conn = server_->ConnectRoot();
    ASSERT_TRUE(conn.has_value()) << conn.error().message();
    ASSERT_TRUE(conn->Execute("CREATE DATABASE app"));
  }
  db::Endpoint endpoint = server_->RootEndpoint();
  endpoint.host = "localhost";
  auto conn = db::Connection::Connect(endpoint, {.database = "app", .unix_socket = server_->socket_path()});
  ASSERT_TRUE(conn.has_value()) << conn.error().message();
  EXPECT_EQ(Value(*conn, "SELECT DATABASE()"), "app");
  EXPECT_EQ(conn->where(), server_->socket_path());
}

TEST_F(ConnectionTest, MovedConnectionKeepsWorking) {
  auto conn = server_->ConnectRoot();
  ASSERT_TRUE(conn.has_value()) << conn.error().message();
  uint64_t id = conn->thread_id();
  db::Connection moved = std::move(*conn);
  EXPECT_EQ(Value(moved, "SELECT CONNECTION_ID()"), std::to_string(id));
}

}  // namespace
}  // namespace cutover::local
