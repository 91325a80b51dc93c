// TLS through the proxy, both sides, with real clients: the mariadb CLI,
// pymysql, Perl DBD::MariaDB and sysbench check the proxy's certificate and
// run over TLS; require_tls refuses plaintext with 3159; client certificates
// are checked when tls_ca is set; broken handshakes close only their own
// connection; a reload serves the new certificate to new connections while
// older sessions go on. Towards servers: sessions log in over verified TLS
// and move between two TLS servers with their state; a wrong CA or a server
// without TLS reaches the client as an error naming the setting to change.
// Certificates are made by test_certs (ECDSA P-256) for each test.
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "local/file_util.h"
#include "proxy_fixture.h"
#include "test_certs.h"

namespace cutover::testing {
namespace {

std::string MakeDir(const std::string& prefix) {
  auto dir = local::MakeTempDir(prefix);
  if (!dir) {
    ADD_FAILURE() << dir.error().message();
    return "/tmp";
  }
  return *dir;
}

class TlsTest : public ProxyTest {
 protected:
  void SetUp() override {
    ProxyTest::SetUp();
    dir_ = MakeDir("cutover-tls-test");
    certs_ = std::make_unique<TestCertificates>(TestCertificates::Create(dir_));
  }
  void TearDown() override {
    ProxyTest::TearDown();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  proxy::ProxyConfig TlsConfig() const {
    proxy::ProxyConfig config = DefaultConfig();
    config.tls.cert = certs_->server().cert;
    config.tls.key = certs_->server().key;
    return config;
  }
  CommandResult Tls(const std::string& scenario, const std::string& args = "") {
    return RunShell(fmt::format("/usr/bin/python3 {} {} {} {}", ClientScript("tls_client.py"), proxy_->listen_port(),
                                scenario, args));
  }
  uint64_t Counter(const std::string& name) {
    auto status = Admin("GET", "/status");
    return status.body["counters"].value(name, uint64_t{0});
  }

  std::string dir_;
  std::unique_ptr<TestCertificates> certs_;
};

TEST_F(TlsTest, MariadbCliChecksTheProxyCertificateAndRunsOverTls) {
  StartProxy(TlsConfig());
  const auto r = RunShell(fmt::format("mariadb --no-defaults --ssl --ssl-ca={} --ssl-verify-server-cert {} -N -e "
                                      "'SELECT 40 + 2; \\s' 2>&1",
                                      certs_->ca(), ShellArgs()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("42"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Cipher in use is"), std::string::npos) << r.output;
  EXPECT_EQ(Counter("tls_sessions"), 1u);

  // The CA that did not sign the proxy's certificate: the client refuses.
  const auto wrong = RunShell(fmt::format("mariadb --no-defaults --ssl --ssl-ca={} --ssl-verify-server-cert {} -e "
                                          "'SELECT 1' 2>&1",
                                          certs_->other_ca(), ShellArgs()));
  EXPECT_NE(wrong.exit_code, 0) << wrong.output;
  EXPECT_NE(wrong.output.find("ERROR 2026"), std::string::npos) << wrong.output;
}

TEST_F(TlsTest, PymysqlChecksTheProxyCertificateAndAWrongCaIsRefused) {
  StartProxy(TlsConfig());
  const auto r = Tls("verify", certs_->ca());
  ExpectClientOk(r, "verify: ok TLSv1.");
  EXPECT_NE(r.output.find(TestCertificates::Sha256Fingerprint(certs_->server().cert)), std::string::npos) << r.output;
  ExpectClientOk(Tls("wrong_ca", certs_->other_ca()), "wrong_ca: ok");
  // Plaintext clients still log in unless require_tls.
  auto plain = ConnectProxy();
  EXPECT_TRUE(plain.Execute("SELECT 1"));
}

TEST_F(TlsTest, PerlDbdMariadbRunsOverTls) {
  StartProxy(TlsConfig());
  const auto r = RunShell(fmt::format("perl {} {} {}", ClientScript("dbd_mariadb_tls.pl"), proxy_->listen_port(),
                                      certs_->ca()));
  ExpectClientOk(r, "dbd_mariadb_tls: ok");
  EXPECT_EQ(Counter("tls_sessions"), 1u);
}

// sysbench --mysql-ssl=on reads client-key.pem, client-cert.pem and
// cacert.pem from its working directory.
TEST_F(TlsTest, SysbenchOltpReadWriteRunsOverTls) {
  StartProxy(TlsConfig());
  const std::string work = dir_ + "/sysbench";
  std::filesystem::create_directories(work);
  std::filesystem::copy_file(certs_->client().cert, work + "/client-cert.pem");
  std::filesystem::copy_file(certs_->client().key, work + "/client-key.pem");
  std::filesystem::copy_file(certs_->ca(), work + "/cacert.pem");
  const auto r = RunShell(fmt::format("cd {} && SYSBENCH_EXTRA=--mysql-ssl=on bash {} {} 3", work,
                                      ClientScript("sysbench.sh"), proxy_->listen_port()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Every sysbench connection (4 threads, plus prepare and cleanup) was TLS.
  EXPECT_GE(Counter("tls_sessions"), 6u) << r.output;
  EXPECT_EQ(Counter("tls_sessions"), Counter("sessions_accepted"));
}

TEST_F(TlsTest, RequireTlsRefusesPlaintextWith3159) {
  proxy::ProxyConfig config = TlsConfig();
  config.tls.required = true;
  StartProxy(config);
  ExpectClientOk(Tls("plaintext_refused"), "plaintext_refused: ok");
  const auto cli = RunShell(fmt::format("mariadb --no-defaults --skip-ssl {} -e 'SELECT 1' 2>&1", ShellArgs()));
  EXPECT_NE(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("ERROR 3159"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("insecure transport"), std::string::npos) << cli.output;
  ExpectClientOk(Tls("verify", certs_->ca()), "verify: ok");
}

// A client that stops mid-handshake, one that sends garbage instead of a
// ClientHello and one with an expired certificate each lose their own
// connection; a TLS session open meanwhile runs a query every 0.2 s
// throughout, and new clients log in after.
TEST_F(TlsTest, BrokenHandshakesCloseOnlyTheirConnection) {
  proxy::ProxyConfig config = TlsConfig();
  config.tls.ca = certs_->ca();
  config.handshake_timeout = std::chrono::milliseconds(1500);
  StartProxy(config);
  CommandResult held;
  std::thread holder([&] {
    held = Tls("hold_session", fmt::format("{} 4 {} {}", certs_->ca(), certs_->client().cert, certs_->client().key));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ExpectClientOk(Tls("garbage_hello"), "garbage_hello: ok");
  ExpectClientOk(Tls("stalled_hello", "4"), "stalled_hello: ok");
  ExpectClientOk(Tls("bad_client_cert", fmt::format("{} {} {}", certs_->ca(), certs_->expired_client().cert,
                                              certs_->expired_client().key)),
           "bad_client_cert: ok");
  holder.join();
  ExpectClientOk(held, "hold_session: ok");
  EXPECT_GE(Counter("tls_handshakes_failed"), 3u);
  ExpectClientOk(Tls("client_cert", fmt::format("{} {} {}", certs_->ca(), certs_->client().cert, certs_->client().key)),
           "client_cert: ok");
}

TEST_F(TlsTest, ClientCertificatesAreCheckedWhenTlsCaIsSet) {
  proxy::ProxyConfig config = TlsConfig();
  config.tls.ca = certs_->ca();
  StartProxy(config);
  ExpectClientOk(Tls("client_cert", fmt::format("{} {} {}", certs_->ca(), certs_->client().cert, certs_->client().key)),
           "client_cert: ok");
  ExpectClientOk(Tls("no_client_cert", certs_->ca()), "no_client_cert: ok");
  ExpectClientOk(Tls("bad_client_cert", fmt::format("{} {} {}", certs_->ca(), certs_->expired_client().cert,
                                              certs_->expired_client().key)),
           "bad_client_cert: ok");
  // A certificate from another CA.
  ExpectClientOk(Tls("bad_client_cert", fmt::format("{} {} {}", certs_->ca(), certs_->other_server().cert,
                                              certs_->other_server().key)),
           "bad_client_cert: ok");
}

// The config names live.pem; the test renews it in place and reloads. A
// session from before goes on; new connections see the new certificate; a
// key that does not match leaves the renewed certificate in service.
TEST_F(TlsTest, ReloadServesTheNewCertificateToNewConnectionsOnly) {
  const std::string cert = dir_ + "/live.pem";
  const std::string key = dir_ + "/live-key.pem";
  const auto copy = [](const std::string& from, const std::string& to) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  };
  copy(certs_->server().cert, cert);
  copy(certs_->server().key, key);
  proxy::ProxyConfig config = DefaultConfig();
  config.tls.cert = cert;
  config.tls.key = key;
  StartProxy(config);
  const std::string before = TestCertificates::Sha256Fingerprint(certs_->server().cert);
  const std::string after = TestCertificates::Sha256Fingerprint(certs_->server_renewed().cert);
  ASSERT_NE(before, after);
  const auto first = Tls("verify", certs_->ca());
  ExpectClientOk(first, "verify: ok");
  EXPECT_NE(first.output.find(before), std::string::npos) << first.output;

  CommandResult held;
  std::thread holder([&] { held = Tls("hold_session", certs_->ca() + " 3"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  copy(certs_->server_renewed().cert, cert);
  copy(certs_->server_renewed().key, key);
  const auto reload = Admin("POST", "/tls/reload");
  EXPECT_EQ(reload.status, 200) << reload.body.dump();
  EXPECT_NE(reload.body.value("certificate", "").find("cutover test server"), std::string::npos) << reload.body.dump();
  const auto second = Tls("verify", certs_->ca());
  ExpectClientOk(second, "verify: ok");
  EXPECT_NE(second.output.find(after), std::string::npos) << second.output;

  copy(certs_->server().key, key);  // the old key: does not match the renewed certificate
  const auto bad = Admin("POST", "/tls/reload");
  EXPECT_EQ(bad.status, 400) << bad.body.dump();
  EXPECT_NE(bad.body.dump().find("is not the private key of the certificate"), std::string::npos) << bad.body.dump();
  const auto third = Tls("verify", certs_->ca());
  ExpectClientOk(third, "verify: ok");
  EXPECT_NE(third.output.find(after), std::string::npos) << third.output;
  holder.join();
  ExpectClientOk(held, "hold_session: ok");
}

// ---------------------------------------------------------------------------
// Towards servers.

class BackendTlsTest : public ProxyTest {
 protected:
  void SetUp() override {
    dir_ = MakeDir("cutover-backend-tls-test");
    certs_ = std::make_unique<TestCertificates>(TestCertificates::Create(dir_));
    const std::vector<std::string> tls = {"--ssl-cert=" + certs_->server().cert, "--ssl-key=" + certs_->server().key,
                                          "--ssl-ca=" + certs_->ca()};
    source_ = StartServer(1, "source", tls);
    ASSERT_TRUE(source_);
    CreateAppUser(*source_);
    target_ = StartServer(2, "target", tls);
    ASSERT_TRUE(target_);
    CreateAppUser(*target_);
  }
  void TearDown() override {
    ProxyTest::TearDown();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  proxy::ProxyConfig BackendTlsConfig(proxy::BackendTlsMode mode, const std::string& ca) const {
    proxy::ProxyConfig config = DefaultConfig();
    config.backend_tls.push_back({{source_->host(), source_->port()}, mode, ca, "source"});
    config.backend_tls.push_back({{target_->host(), target_->port()}, mode, ca, "target"});
    return config;
  }
  std::string RepointBody() const {
    return fmt::format(R"({{"host": "127.0.0.1", "port": {}, "pinned": "refuse"}})", target_->port());
  }
  static std::string Value(db::Connection& conn, const std::string& sql) {
    auto r = conn.Query(sql);
    if (!r) return "error: " + r.error().message();
    if (r->rows.empty() || !r->rows[0][0]) return "NULL";
    return *r->rows[0][0];
  }

  std::string dir_;
  std::unique_ptr<TestCertificates> certs_;
  std::unique_ptr<local::LocalServer> target_;
};

TEST_F(BackendTlsTest, SessionsLogInOverVerifiedTlsAndMoveWithTheirState) {
  StartProxy(BackendTlsConfig(proxy::BackendTlsMode::kVerify, certs_->ca()));
  auto client = ConnectProxy();
  EXPECT_EQ(Value(client, "SELECT VARIABLE_VALUE LIKE 'TLSv1._' FROM information_schema.SESSION_STATUS "
                          "WHERE VARIABLE_NAME = 'SSL_VERSION'"),
            "1");
  ASSERT_TRUE(client.Execute("SET time_zone = '+05:30'"));
  ASSERT_TRUE(client.Execute("USE app"));

  auto target_root = target_->ConnectRoot();
  ASSERT_TRUE(target_root) << target_root.error().message();
  auto prepare = Admin("POST", "/prepare", RepointBody());
  ASSERT_EQ(prepare.status, 200) << prepare.body.dump();
  EXPECT_EQ(prepare.body["warmed"], 1) << prepare.body.dump();
  const std::string standby = Value(*target_root, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'app'");
  ASSERT_EQ(Admin("POST", "/pause", R"({"drain_timeout_ms": 2000})").status, 200);
  auto repoint = Admin("POST", "/repoint", RepointBody());
  ASSERT_EQ(repoint.status, 200) << repoint.body.dump();
  ASSERT_EQ(Admin("POST", "/resume").status, 200);

  // The standby made over TLS before the pause serves the session now.
  EXPECT_EQ(Value(client, "SELECT CONNECTION_ID()"), standby);
  EXPECT_EQ(Value(client, "SELECT @@server_id"), "2");
  EXPECT_EQ(Value(client, "SELECT @@session.time_zone"), "+05:30");
  EXPECT_EQ(Value(client, "SELECT DATABASE()"), "app");
  EXPECT_EQ(Value(client, "SELECT VARIABLE_VALUE LIKE 'TLSv1._' FROM information_schema.SESSION_STATUS "
                          "WHERE VARIABLE_NAME = 'SSL_VERSION'"),
            "1");
}

TEST_F(BackendTlsTest, AWrongCaReachesTheClientNamingTheSettingToChange) {
  StartProxy(BackendTlsConfig(proxy::BackendTlsMode::kVerify, certs_->other_ca()));
  auto conn = db::Connection::Connect(ProxyEndpoint());
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error().server_errno(), 1105) << conn.error().message();
  EXPECT_NE(conn.error().message().find("certificate verify failed"), std::string::npos) << conn.error().message();
  EXPECT_NE(conn.error().message().find("[source] tls_ca"), std::string::npos) << conn.error().message();

  // "required" encrypts without checking the certificate.
  proxy_->Stop();
  StartProxy(BackendTlsConfig(proxy::BackendTlsMode::kRequired, ""));
  auto client = ConnectProxy();
  EXPECT_EQ(Value(client, "SELECT VARIABLE_VALUE <> '' FROM information_schema.SESSION_STATUS "
                          "WHERE VARIABLE_NAME = 'SSL_CIPHER'"),
            "1");
}

TEST_F(TlsTest, AServerWithoutTlsIsRefusedWhenTlsTowardsItIsOn) {
  proxy::ProxyConfig config = DefaultConfig();
  config.backend_tls.push_back({config.primary, proxy::BackendTlsMode::kRequired, "", "source"});
  StartProxy(config);
  auto conn = db::Connection::Connect(ProxyEndpoint());
  ASSERT_FALSE(conn);
  EXPECT_NE(conn.error().message().find("does not offer TLS"), std::string::npos) << conn.error().message();
  EXPECT_NE(conn.error().message().find("[source] tls = \"off\""), std::string::npos) << conn.error().message();
}

}  // namespace
}  // namespace cutover::testing
