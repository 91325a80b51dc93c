// The compressed protocol between clients and the proxy (zlib), with
// plaintext towards servers: real clients doing what applications do, a
// session moved to another server mid-session, compression inside TLS, and
// bad frames that close only their own connection.
#include <mysql.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "c_client.h"
#include "local/file_util.h"
#include "proxy_fixture.h"
#include "test_certs.h"

namespace cutover::testing {
namespace {

constexpr unsigned long kMaxAllowedPacket = 64ul << 20;

class CompressionTest : public ProxyAndTargetTest {
 protected:
  uint64_t CompressedSessions() {
    auto status = Admin("GET", "/status");
    return status.body["counters"].value("compressed_sessions", uint64_t{0});
  }
};

// A server-side prepared "SELECT @@server_id, ? + 1" over Connector/C.
std::string ExecuteServerId(MYSQL_STMT* stmt, long long param) {
  MYSQL_BIND in{};
  in.buffer_type = MYSQL_TYPE_LONGLONG;
  in.buffer = &param;
  if (mysql_stmt_bind_param(stmt, &in) || mysql_stmt_execute(stmt)) return mysql_stmt_error(stmt);
  long long server_id = 0, result = 0;
  MYSQL_BIND out[2]{};
  out[0].buffer_type = out[1].buffer_type = MYSQL_TYPE_LONGLONG;
  out[0].buffer = &server_id;
  out[1].buffer = &result;
  if (mysql_stmt_bind_result(stmt, out) || mysql_stmt_fetch(stmt)) return mysql_stmt_error(stmt);
  mysql_stmt_free_result(stmt);
  return fmt::format("{}|{}", server_id, result);
}

TEST_F(CompressionTest, MariadbCliSessionWithCompress) {
  StartProxy(DefaultConfig());
  auto r = RunShell(fmt::format("bash {} {} --compress --skip-ssl", ClientScript("mariadb_cli.sh"),
                                proxy_->listen_port()));
  ExpectClientOk(r, "mariadb_cli: ok");
  EXPECT_GE(CompressedSessions(), 2u);
}

TEST_F(CompressionTest, MysqldbCompressedSessionMovesWithLocalInfileAndABigBlob) {
  StartProxy(DefaultConfig());
  auto r = RunShell(fmt::format("/usr/bin/python3 {} {} {} {} {}", ClientScript("mysqldb_compressed.py"),
                                proxy_->listen_port(), admin_->port(), kAdminToken, target_->port()));
  ExpectClientOk(r, "mysqldb_compressed: ok");
  EXPECT_EQ(CompressedSessions(), 1u);
}

TEST_F(CompressionTest, PreparedStatementAndSessionStateMoveWithACompressedClient) {
  StartProxy(DefaultConfig());
  CClient client(proxy_->listen_port(), kMaxAllowedPacket, /*compress=*/true);
  ASSERT_TRUE(client.connected()) << client.error();
  ASSERT_EQ(client.Query("SET time_zone = '+05:30'"), "");
  MYSQL_STMT* stmt = mysql_stmt_init(client.get());
  const std::string sql = "SELECT @@server_id, ? + 1";
  ASSERT_EQ(mysql_stmt_prepare(stmt, sql.data(), sql.size()), 0) << mysql_stmt_error(stmt);
  EXPECT_EQ(ExecuteServerId(stmt, 41), "1|42");

  MoveEverySessionToTarget();
  EXPECT_EQ(client.Query("SELECT @@server_id, @@session.time_zone"), "2|+05:30");
  EXPECT_EQ(ExecuteServerId(stmt, 1), "2|2");
  // A command and a result over one 16 MiB frame each, so over several compressed frames.
  std::string big(18000000, 'a');
  for (size_t i = 1; i < big.size(); i += 2) big[i] = 'b';
  EXPECT_EQ(client.Query(fmt::format("SELECT MD5('{}') = MD5(REPEAT('ab', 9000000))", big)), "1");
  EXPECT_TRUE(client.Query("SELECT REPEAT('ab', 9000000)") == big);
  EXPECT_EQ(client.Query("SELECT @@server_id"), "2");
  mysql_stmt_close(stmt);
  EXPECT_EQ(CompressedSessions(), 1u);
}

TEST_F(CompressionTest, BadFramesCloseOnlyTheirConnection) {
  StartProxy(DefaultConfig());
  CClient other(proxy_->listen_port(), kMaxAllowedPacket, /*compress=*/true);
  ASSERT_TRUE(other.connected()) << other.error();
  auto r = RunShell(fmt::format("/usr/bin/python3 {} {} compressed_bad_frames", ClientScript("raw_client.py"),
                                proxy_->listen_port()));
  ExpectClientOk(r, "compressed_bad_frames: ok");
  EXPECT_EQ(other.Query("SELECT 'still here'"), "still here");
}

class CompressionTlsTest : public ProxyTest {
 protected:
  void SetUp() override {
    ProxyTest::SetUp();
    auto dir = local::MakeTempDir("cutover-zip-tls-test");
    ASSERT_TRUE(dir) << dir.error().message();
    dir_ = *dir;
    certs_ = std::make_unique<TestCertificates>(TestCertificates::Create(dir_));
  }
  void TearDown() override {
    ProxyTest::TearDown();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_;
  std::unique_ptr<TestCertificates> certs_;
};

// packets -> compression -> TLS -> TCP: the CLI's whole session, checked certificate.
TEST_F(CompressionTlsTest, MariadbCliWithCompressInsideVerifiedTls) {
  proxy::ProxyConfig config = DefaultConfig();
  config.tls.cert = certs_->server().cert;
  config.tls.key = certs_->server().key;
  StartProxy(config);
  const std::string tls = fmt::format("--compress --ssl --ssl-ca={} --ssl-verify-server-cert", certs_->ca());
  auto session = RunShell(fmt::format("bash {} {} {}", ClientScript("mariadb_cli.sh"), proxy_->listen_port(), tls));
  ExpectClientOk(session, "mariadb_cli: ok");
  auto r = RunShell(fmt::format("mariadb --no-defaults {} {} -N -e 'SELECT MD5(REPEAT(\"xyz\", 100000)); \\s' 2>&1",
                                tls, ShellArgs()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Cipher in use is"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Compressed"), std::string::npos) << r.output;
  auto status = Admin("GET", "/status");
  const auto& counters = status.body["counters"];
  EXPECT_EQ(counters["compressed_sessions"], counters["tls_sessions"]) << status.body.dump();
}

}  // namespace
}  // namespace cutover::testing
