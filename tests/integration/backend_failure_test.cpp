// Servers that are down or die: the affected client gets a clear error, the
// proxy and every other session keep working.
#include <mysql.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "proxy_fixture.h"

namespace cutover::testing {
namespace {

struct QueryOutcome {
  unsigned error = 0;
  std::string message;
};

QueryOutcome QueryThroughProxy(uint16_t port, const std::string& sql) {
  MYSQL* m = mysql_init(nullptr);
  QueryOutcome out;
  if (!mysql_real_connect(m, "127.0.0.1", kAppUser, kAppPassword, nullptr, port, nullptr, 0) ||
      mysql_query(m, sql.c_str()) != 0) {
    out = {mysql_errno(m), mysql_error(m)};
  } else if (MYSQL_RES* r = mysql_store_result(m)) {
    mysql_free_result(r);
  }
  mysql_close(m);
  return out;
}

TEST_F(ProxyTest, BackendDownAtLoginGivesAClearError) {
  auto config = DefaultConfig();
  StartProxy(config);
  ASSERT_TRUE(source_->Stop());
  const QueryOutcome down = QueryThroughProxy(proxy_->listen_port(), "SELECT 1");
  EXPECT_EQ(down.error, 1105u) << down.message;
  EXPECT_NE(down.message.find("cutover: backend 127.0.0.1:"), std::string::npos) << down.message;
  EXPECT_NE(down.message.find("cannot connect"), std::string::npos) << down.message;
  EXPECT_EQ(Admin("GET", "/status").status, 200);
  // Once the server is back, the proxy serves again without a restart.
  ASSERT_TRUE(source_->Restart());
  auto again = db::Connection::Connect(ProxyEndpoint());
  ASSERT_TRUE(again) << again.error().message();
}

TEST_F(ProxyTest, KilledBackendConnectionFailsOnlyItsClient) {
  StartProxy(DefaultConfig());
  auto other = ConnectProxy();
  auto victim = std::async(std::launch::async, [&] { return QueryThroughProxy(proxy_->listen_port(), "SELECT SLEEP(20)"); });
  auto root = source_->ConnectRoot();
  ASSERT_TRUE(root);
  std::optional<std::string> id;
  for (int i = 0; i < 100 && !id; ++i) {
    auto v = root->QueryValue("SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(20)%'");
    if (v && *v) id = **v;
    else std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(id) << "the sleeping query never showed up";
  ASSERT_TRUE(root->Execute("KILL CONNECTION " + *id));
  const QueryOutcome outcome = victim.get();
  EXPECT_NE(outcome.error, 0u);
  EXPECT_FALSE(outcome.message.empty());
  auto v = other.QueryValue("SELECT 1 + 1");
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(**v, "2");
}

TEST_F(ProxyTest, ServerDeathMidQueryIsAClearErrorAndTheProxySurvives) {
  StartProxy(DefaultConfig());
  auto victim = std::async(std::launch::async, [&] { return QueryThroughProxy(proxy_->listen_port(), "SELECT SLEEP(20)"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  source_->Kill();
  const QueryOutcome outcome = victim.get();
  EXPECT_EQ(outcome.error, 1927u) << outcome.message;
  EXPECT_NE(outcome.message.find("cutover: lost connection to the database"), std::string::npos) << outcome.message;
  ASSERT_TRUE(source_->Restart());
  EXPECT_EQ(QueryThroughProxy(proxy_->listen_port(), "SELECT 1").error, 0u);
}

TEST_F(ProxyTest, BadConfigFileListsEveryProblemAndExits2) {
  const std::string path = ::testing::TempDir() + "/bad-cutover.toml";
  std::ofstream(path) << "[proxy]\nlisten = \"x\"\n[source]\nhost = \"h\"\n";
  auto r = RunShell(fmt::format("{} proxy --config {}", CUTOVER_BINARY, path));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  for (const char* expected : {"proxy.listen", "admin_token is missing", "[[proxy.users]]", "[source] user is missing"}) {
    EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
  }
  r = RunShell(fmt::format("{} proxy --config /nonexistent.toml", CUTOVER_BINARY));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = RunShell(fmt::format("{} proxy --help", CUTOVER_BINARY));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--config"), std::string::npos);
}

}  // namespace
}  // namespace cutover::testing
