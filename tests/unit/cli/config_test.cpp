#include "cli/config.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace cutover::cli {
namespace {

constexpr char kGood[] = R"(
[proxy]
listen = "127.0.0.1:6033"
admin_listen = "127.0.0.1:6034"
admin_token = "t"
state_file = "/tmp/x.state"
threads = 2
max_pause_ms = 2000

[[proxy.users]]
name = "app"
password = "secret"

[[proxy.users]]
name = "hashed"
password_hash = "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"

[source]
host = "10.0.0.5"
port = 3306
user = "admin"
password_env = "CUTOVER_TEST_SOURCE_PASSWORD"

[replication]
user = "repl"
password = "r"
)";

TEST(ConfigTest, ReadsEverySection) {
  ::setenv("CUTOVER_TEST_SOURCE_PASSWORD", "from-env", 1);
  auto c = ParseConfig(kGood, "good.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->proxy.listen.ToString(), "127.0.0.1:6033");
  EXPECT_EQ(c->proxy.threads, 2);
  EXPECT_EQ(c->proxy.max_pause.count(), 2000);
  EXPECT_EQ(c->proxy.primary.ToString(), "10.0.0.5:3306");
  EXPECT_EQ(c->source->password, "from-env");
  ASSERT_EQ(c->proxy.users.size(), 2u);
  // PASSWORD('secret') as MariaDB computes it; both forms give the same hash.
  EXPECT_EQ(protocol::FormatNativePasswordHash(c->proxy.users[0].stage2), "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7");
  EXPECT_EQ(c->proxy.users[0].stage2, c->proxy.users[1].stage2);
  EXPECT_FALSE(c->target);
  EXPECT_EQ(c->replication->user, "repl");
}

TEST(ConfigTest, ListsEveryProblemAtOnce) {
  ::unsetenv("CUTOVER_NOT_SET");
  auto c = ParseConfig(R"(
[proxy]
listen = "nonsense"
threads = 0
max_pause_ms = -5
[[proxy.users]]
name = "a"
password_hash = "*XYZ"
[[proxy.users]]
name = "a"
password_env = "CUTOVER_NOT_SET"
[source]
port = 70000
[extra]
)", "bad.toml");
  ASSERT_FALSE(c);
  const std::string m = c.error().message();
  for (const char* expected : {"bad.toml", "proxy.listen", "admin_token is missing", "proxy.threads",
                               "max_pause_ms must be positive", "password_hash", "listed twice", "CUTOVER_NOT_SET",
                               "[source] host is missing", "port 70000", "[source] user is missing",
                               "unknown section [extra]"}) {
    EXPECT_NE(m.find(expected), std::string::npos) << "missing '" << expected << "' in:\n" << m;
  }
}

TEST(ConfigTest, EachCommandRequiresOnlyTheSectionsItUses) {
  constexpr char kCloneOnly[] = R"(
[source]
host = "127.0.0.1"
user = "admin"
[target]
host = "127.0.0.1"
port = 3307
user = "admin"
[replication]
user = "repl"
password = "r"
source_host = "10.0.0.5"
source_port = 3310
)";
  auto c = ParseConfig(kCloneOnly, "clone.toml", kCloneNeeds);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(c->has_proxy);
  EXPECT_EQ(c->target->port, 3307);
  EXPECT_EQ(c->replication->source_host, "10.0.0.5");
  EXPECT_EQ(c->replication->source_port, 3310);
  auto proxy = ParseConfig(kCloneOnly, "clone.toml", kProxyNeeds);
  ASSERT_FALSE(proxy);
  EXPECT_NE(proxy.error().message().find("[proxy] section is missing"), std::string::npos);
  auto no_target = ParseConfig("[source]\nhost = \"h\"\nuser = \"u\"\n", "x.toml", kCloneNeeds);
  ASSERT_FALSE(no_target);
  EXPECT_NE(no_target.error().message().find("[target] section is missing"), std::string::npos);
  EXPECT_NE(no_target.error().message().find("[replication] section is missing"), std::string::npos);
}

TEST(ConfigTest, SwitchoverSectionWithReplicas) {
  auto c = ParseConfig(R"(
[source]
host = "a"
user = "u"
[switchover]
state_file = "/tmp/s.json"
max_lag_s = 2
drain_timeout_ms = 1500
[[switchover.replicas]]
host = "r1"
port = 3310
user = "admin"
password = "p"
[[switchover.replicas]]
port = 3311
)", "sw.toml", kSourceSection);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("switchover.replicas[1]] host is missing"), std::string::npos) << c.error().message();
  auto ok = ParseConfig(R"(
[source]
host = "a"
user = "u"
[switchover]
state_file = "/tmp/s.json"
max_lag_s = 2
[[switchover.replicas]]
host = "r1"
port = 3310
user = "admin"
)", "sw.toml", kSourceSection);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->switchover.state_file, "/tmp/s.json");
  EXPECT_EQ(ok->switchover.max_lag_s, 2);
  EXPECT_EQ(ok->switchover.drain_timeout_ms, 3000);
  ASSERT_EQ(ok->switchover.replicas.size(), 1u);
  EXPECT_EQ(ok->switchover.replicas[0].ToString(), "r1:3310");
}

TEST(ConfigTest, SyntaxErrorNamesTheLine) {
  auto c = ParseConfig("[proxy]\nlisten = \n", "broken.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("broken.toml:2"), std::string::npos) << c.error().message();
}

TEST(ConfigTest, MissingFileIsAClearError) {
  auto c = LoadConfig("/nonexistent/cutover.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("/nonexistent/cutover.toml"), std::string::npos);
}

}  // namespace
}  // namespace cutover::cli
