// The proxy in front of a real mariadbd, driven by real clients.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "proxy_fixture.h"

namespace cutover::testing {
namespace {

std::string Value(db::Connection& conn, std::string_view sql) {
  auto value = conn.QueryValue(sql);
  EXPECT_TRUE(value.has_value()) << sql << ": " << (value ? "" : value.error().message());
  if (!value || !value->has_value()) return "<NULL>";
  return **value;
}

TEST_F(ProxyTest, QueriesAndTransactionsPassThrough) {
  StartProxy(DefaultConfig());
  auto conn = ConnectProxy();
  EXPECT_EQ(Value(conn, "SELECT @@server_id"), "1");
  ASSERT_TRUE(conn.Execute("CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))"));
  ASSERT_TRUE(conn.Execute("BEGIN"));
  ASSERT_TRUE(conn.Execute("INSERT INTO app.t VALUES (1, 'one'), (2, NULL)"));
  ASSERT_TRUE(conn.Execute("ROLLBACK"));
  ASSERT_TRUE(conn.Execute("START TRANSACTION"));
  ASSERT_TRUE(conn.Execute("INSERT INTO app.t VALUES (3, 'three')"));
  ASSERT_TRUE(conn.Execute("COMMIT"));
  EXPECT_EQ(Value(conn, "SELECT COUNT(*) FROM app.t"), "1");
  EXPECT_EQ(Value(conn, "SELECT v FROM app.t WHERE id = 3"), "three");
  auto err = conn.Execute("SELECT * FROM app.no_such_table");
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().server_errno(), 1146);
}

TEST_F(ProxyTest, WrongPasswordAndUnknownUserGet1045) {
  StartProxy(DefaultConfig());
  for (auto [user, password] : {std::pair{"app", "wrong"}, std::pair{"nobody", "x"}, std::pair{"app", ""}}) {
    auto conn = db::Connection::Connect(ProxyEndpoint(user, password));
    ASSERT_FALSE(conn) << user;
    EXPECT_EQ(conn.error().server_errno(), 1045) << conn.error().message();
    EXPECT_NE(conn.error().message().find("Access denied for user '" + std::string(user) + "'"), std::string::npos)
        << conn.error().message();
  }
  auto status = Admin("GET", "/status");
  EXPECT_EQ(status.status, 200);
  EXPECT_EQ(status.body["counters"]["logins_failed"], 3);
}

TEST_F(ProxyTest, MariadbCliWithMultiStatements) {
  StartProxy(DefaultConfig());
  auto r = RunShell("mariadb " + ShellArgs() + " -N -e 'SELECT 1; SELECT 2; USE app; SELECT DATABASE()'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "1\n2\napp\n");
}

// pymysql does not negotiate CLIENT_SESSION_TRACK, which the proxy always
// uses towards the server: OK packets reach it exactly as the server sends
// them to such a client (the info length-encoded, which pymysql keeps as is,
// length byte and all; PHP's mysqlnd decodes it).
TEST_F(ProxyTest, ClientWithoutSessionTrackingGetsTheServersOkInfo) {
  StartProxy(DefaultConfig());
  const std::string script = R"(
import pymysql, sys
c = pymysql.connect(host='127.0.0.1', port=int(sys.argv[1]), user='app', password='app-secret', autocommit=True)
k = c.cursor()
k.execute('CREATE TABLE app.' + sys.argv[2] + ' (id INT PRIMARY KEY, v INT)')
k.execute('INSERT INTO app.' + sys.argv[2] + ' VALUES (1, 1), (2, 2)')
print(repr(c._result.message))
k.execute('UPDATE app.' + sys.argv[2] + ' SET v = v + 1')
print(repr(c._result.message))
k.execute('SET time_zone = %s', ('+01:00',))
print(repr(c._result.message))
k.execute('SELECT @@time_zone')
print(k.fetchone()[0])
)";
  auto direct = RunShell(fmt::format("/usr/bin/python3 -c \"{}\" {} direct", script, source_->port()));
  ASSERT_EQ(direct.exit_code, 0) << direct.output;
  EXPECT_EQ(direct.output,
            "b'&Records: 2  Duplicates: 0  Warnings: 0'\nb'(Rows matched: 2  Changed: 2  Warnings: 0'\nb''\n+01:00\n");
  auto proxied = RunShell(fmt::format("/usr/bin/python3 -c \"{}\" {} proxied", script, proxy_->listen_port()));
  EXPECT_EQ(proxied.exit_code, 0) << proxied.output;
  EXPECT_EQ(proxied.output, direct.output);
}

}  // namespace
}  // namespace cutover::testing
