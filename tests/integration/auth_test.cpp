// Clients log in to the proxy with the plugin their proxy user names:
// mysql_native_password, caching_sha2_password (fast auth when the proxy
// knows the password; full auth with only the hash: the password over TLS, or
// RSA-encrypted in plaintext), client_ed25519 and mysql_clear_password (TLS
// only). Real clients: pymysql (every path but ed25519: python3-nacl is not
// installed), the mariadb CLI and Perl DBD::MariaDB (Connector/C's plugins)
// and PHP's mysqlnd. A wrong password gets 1045
// with every plugin, and a session logged in so moves like any other.
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "local/file_util.h"
#include "protocol/ed25519_auth.h"
#include "proxy_fixture.h"
#include "test_certs.h"

namespace cutover::testing {
namespace {

constexpr char kSha2User[] = "sha2";          // caching_sha2_password, password known to the proxy
constexpr char kSha2HashUser[] = "sha2hash";  // caching_sha2_password, only the mysql.user hash in the config
constexpr char kClearUser[] = "clear";        // mysql_clear_password
constexpr char kEd25519User[] = "ed";         // client_ed25519
constexpr char kPassword[] = "s3cret-Pw";

class AuthTest : public ProxyTest {
 protected:
  void SetUp() override {
    ProxyTest::SetUp();
    auto dir = local::MakeTempDir("cutover-auth-test");
    ASSERT_TRUE(dir) << dir.error().message();
    dir_ = *dir;
    certs_ = std::make_unique<TestCertificates>(TestCertificates::Create(dir_));
    auto root = source_->ConnectRoot();
    ASSERT_TRUE(root) << root.error().message();
    for (const char* user : {kSha2User, kSha2HashUser, kClearUser, kEd25519User}) {
      ASSERT_TRUE(root->Execute(fmt::format("CREATE USER '{}'@'%' IDENTIFIED BY '{}'", user, kPassword)));
      ASSERT_TRUE(root->Execute(fmt::format("GRANT ALL PRIVILEGES ON *.* TO '{}'@'%'", user)));
    }
  }
  void TearDown() override {
    ProxyTest::TearDown();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  proxy::ProxyConfig AuthConfig() const {
    proxy::ProxyConfig config = DefaultConfig();
    config.tls.cert = certs_->server().cert;
    config.tls.key = certs_->server().key;
    const protocol::Sha1Digest stage1 = protocol::NativePasswordStage1(kPassword);
    proxy::ProxyUser sha2{kSha2User, false, protocol::NativePasswordStage2(stage1), protocol::kCachingSha2Plugin,
                          protocol::CachingSha2Stage2(kPassword), stage1};
    proxy::ProxyUser sha2_hash{kSha2HashUser, false, protocol::NativePasswordStage2(stage1),
                               protocol::kCachingSha2Plugin};
    proxy::ProxyUser clear{kClearUser, false, protocol::NativePasswordStage2(stage1), protocol::kClearPasswordPlugin};
    proxy::ProxyUser ed{kEd25519User, false, protocol::NativePasswordStage2(stage1), protocol::kEd25519Plugin};
    ed.stage1 = stage1;
    ed.ed25519_key = protocol::Ed25519PasswordKey(kPassword);
    config.users.insert(config.users.end(), {sha2, sha2_hash, clear, ed});
    return config;
  }
  CommandResult Pymysql(const std::string& scenario, const std::string& user, const std::string& password,
                        bool tls = false) {
    return RunShell(fmt::format("/usr/bin/python3 {} {} {} {} '{}' {}", ClientScript("auth_client.py"),
                                proxy_->listen_port(), scenario, user, password, tls ? certs_->ca() : ""));
  }
  CommandResult Cli(const std::string& user, const std::string& password, const std::string& options = "--skip-ssl") {
    return RunShell(fmt::format("mariadb --no-defaults {} -h127.0.0.1 -P{} -u{} -p'{}' -N -e "
                                "'SELECT CURRENT_USER(), 6 * 7' 2>&1",
                                options, proxy_->listen_port(), user, password));
  }

  std::string dir_;
  std::unique_ptr<TestCertificates> certs_;
};

TEST_F(AuthTest, CachingSha2FastAuthFullAuthOverTlsAndWithRsa) {
  StartProxy(AuthConfig());
  ExpectClientOk(Pymysql("login", kSha2User, kPassword), "login: ok");        // fast auth
  ExpectClientOk(Pymysql("login", kSha2HashUser, kPassword), "login: ok");    // full auth, RSA (plaintext)
  ExpectClientOk(Pymysql("login", kSha2HashUser, kPassword, true), "login: ok");  // full auth, TLS
  ExpectClientOk(Pymysql("denied", kSha2User, "wrong"), "denied: ok");
  ExpectClientOk(Pymysql("denied", kSha2HashUser, "wrong"), "denied: ok");
  ExpectClientOk(Pymysql("denied", kSha2HashUser, "wrong", true), "denied: ok");
}

TEST_F(AuthTest, MariadbCliLogsInWithCachingSha2) {
  StartProxy(AuthConfig());
  const auto fast = Cli(kSha2User, kPassword);
  EXPECT_EQ(fast.exit_code, 0) << fast.output;
  EXPECT_NE(fast.output.find("sha2@%\t42"), std::string::npos) << fast.output;
  const auto tls = Cli(kSha2HashUser, kPassword, fmt::format("--ssl --ssl-ca={} --ssl-verify-server-cert", certs_->ca()));
  EXPECT_EQ(tls.exit_code, 0) << tls.output;
  EXPECT_NE(tls.output.find("sha2hash@%\t42"), std::string::npos) << tls.output;
  const auto wrong = Cli(kSha2User, "wrong");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("ERROR 1045"), std::string::npos) << wrong.output;
}

TEST_F(AuthTest, PhpMysqlndLogsInWithCachingSha2) {
  StartProxy(AuthConfig());
  const auto r = RunShell(fmt::format("php {} {} {} '{}' 2>&1", ClientScript("auth_mysqlnd.php"),
                                      proxy_->listen_port(), kSha2User, kPassword));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("mysqlnd: ok sha2@% 42"), std::string::npos) << r.output;
  // Full auth in plaintext: mysqlnd asks for the proxy's RSA key.
  const auto rsa = RunShell(fmt::format("php {} {} {} '{}' 2>&1", ClientScript("auth_mysqlnd.php"),
                                        proxy_->listen_port(), kSha2HashUser, kPassword));
  EXPECT_EQ(rsa.exit_code, 0) << rsa.output;
  EXPECT_NE(rsa.output.find("mysqlnd: ok sha2hash@% 42"), std::string::npos) << rsa.output;
}

// Connector/C loads its client_ed25519 plugin when the proxy switches to it;
// the server account stays mysql_native_password (the proxy's login there).
TEST_F(AuthTest, MariadbCliLogsInWithClientEd25519) {
  StartProxy(AuthConfig());
  const auto ok = Cli(kEd25519User, kPassword);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("ed@%\t42"), std::string::npos) << ok.output;
  const auto wrong = Cli(kEd25519User, "wrong");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("ERROR 1045"), std::string::npos) << wrong.output;
  // Perl DBD::MariaDB, over the same client library.
  const auto perl = RunShell(fmt::format(
      "perl -MDBI -e 'my $d = DBI->connect(\"DBI:MariaDB:host=127.0.0.1;port={}\", \"{}\", \"{}\", "
      "{{PrintError => 0}}) or die $DBI::errstr; print \"perl: \", $d->selectrow_array(\"SELECT 6 * 7\"), \"\\n\"' 2>&1",
      proxy_->listen_port(), kEd25519User, kPassword));
  EXPECT_EQ(perl.exit_code, 0) << perl.output;
  EXPECT_NE(perl.output.find("perl: 42"), std::string::npos) << perl.output;
}

TEST_F(AuthTest, ClearPasswordOnlyOverTls) {
  StartProxy(AuthConfig());
  ExpectClientOk(Pymysql("login", kClearUser, kPassword, true), "login: ok");
  ExpectClientOk(Pymysql("denied", kClearUser, "wrong", true), "denied: ok");
  // In plaintext the proxy refuses before asking for the password.
  ExpectClientOk(Pymysql("refused", kClearUser, std::string(kPassword) + ":3159"), "refused: ok");
}

TEST_F(AuthTest, NativePasswordStillWorksAndWrongPasswordsGet1045) {
  StartProxy(AuthConfig());
  ExpectClientOk(Pymysql("login", kAppUser, kAppPassword), "login: ok");
  ExpectClientOk(Pymysql("denied", kAppUser, "wrong"), "denied: ok");
  ExpectClientOk(Pymysql("denied", "nobody", "wrong"), "denied: ok");
}

}  // namespace
}  // namespace cutover::testing

namespace cutover::testing {
namespace {

// Server accounts IDENTIFIED VIA ed25519 on both servers: the proxy logs in to
// them with the signature the password gives, at login and on a move. The
// client logs in to the proxy with mysql_native_password.
class Ed25519BackendTest : public ProxyAndTargetTest {
 protected:
  static void CreateEd25519Account(local::LocalServer& server) {
    auto root = server.ConnectRoot();
    ASSERT_TRUE(root) << root.error().message();
    auto installed = root->Execute("INSTALL SONAME 'auth_ed25519'");
    if (!installed) {
      ASSERT_NE(installed.error().message().find("already"), std::string::npos) << installed.error().message();
    }
    ASSERT_TRUE(root->Execute(
        fmt::format("CREATE USER '{}'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('{}')", kEd25519User, kPassword)));
    ASSERT_TRUE(root->Execute(fmt::format("GRANT ALL PRIVILEGES ON *.* TO '{}'@'%'", kEd25519User)));
  }
  proxy::ProxyConfig Config(bool with_password) const {
    proxy::ProxyConfig config = DefaultConfig();
    const protocol::Sha1Digest stage1 = protocol::NativePasswordStage1(kPassword);
    proxy::ProxyUser user{kEd25519User, false, protocol::NativePasswordStage2(stage1)};
    if (with_password) user.password = kPassword;
    config.users.push_back(user);
    return config;
  }
};

TEST_F(Ed25519BackendTest, ServerAccountsUsingEd25519LogInAndMove) {
  CreateEd25519Account(*source_);
  CreateEd25519Account(*target_);
  StartProxy(Config(true));
  auto client = db::Connection::Connect(ProxyEndpoint(kEd25519User, kPassword));
  ASSERT_TRUE(client) << client.error().message();
  ASSERT_TRUE(client->Execute("SET time_zone = '+03:00'"));
  auto before = client->Query("SELECT @@server_id, @@time_zone");
  ASSERT_TRUE(before) << before.error().message();
  EXPECT_EQ(before->rows.at(0)[0].value_or(""), "1");
  MoveEverySessionToTarget();
  auto after = client->Query("SELECT @@server_id, @@time_zone");
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->rows.at(0)[0].value_or(""), "2");
  EXPECT_EQ(after->rows.at(0)[1].value_or(""), "+03:00");
}

TEST_F(Ed25519BackendTest, WithoutThePasswordTheClientIsToldWhatToConfigure) {
  CreateEd25519Account(*source_);
  StartProxy(Config(false));
  auto client = db::Connection::Connect(ProxyEndpoint(kEd25519User, kPassword));
  ASSERT_FALSE(client);
  EXPECT_NE(client.error().message().find("client_ed25519, which needs the password"), std::string::npos)
      << client.error().message();
}

}  // namespace
}  // namespace cutover::testing
