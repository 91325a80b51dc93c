// The admin API of a real `cutover proxy` process, driven by real HTTP
// clients (curl, and raw sockets for what curl will not send) while
// application clients run queries through the proxy. After every request the
// proxy process must still run and every client session still answer: one
// scrape of /metrics used to abort the proxy with a double free.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "clone_fixture.h"
#include "local/file_util.h"
#include "proxy_fixture.h"

namespace cutover::testing {
using clone_tests::BackgroundCutover;
namespace {

using namespace std::chrono_literals;

constexpr int kClients = 8;

struct Reply {
  int status = 0;
  std::string body;
};

// One raw request: sends `bytes` as they are, reads until the proxy closes
// (or 5 s pass), and splits off the status code.
Reply RawHttp(uint16_t port, const std::string& bytes) {
  Reply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string response;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, size_t(n));
  ::close(fd);
  if (response.starts_with("HTTP/1.1 ")) reply.status = std::atoi(response.c_str() + 9);
  const size_t body = response.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = response.substr(body + 4);
  return reply;
}

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = StartServer(1, "source");
    ASSERT_TRUE(source_);
    CreateAppUser(*source_);
    auto dir = local::MakeTempDir("cutover-admin-test-");
    ASSERT_TRUE(dir) << dir.error().message();
    dir_ = *dir;
    config_ = dir_ + "/cutover.toml";
    const std::string& config = config_;
    std::ofstream(config) << fmt::format(
        "[proxy]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nadmin_token = \"{}\"\n"
        "state_file = \"{}/proxy.state\"\nhandshake_timeout_ms = 1000\n\n"
        "[[proxy.users]]\nname = \"{}\"\npassword = \"{}\"\n\n"
        "[source]\nhost = \"{}\"\nport = {}\nuser = \"root\"\npassword = \"{}\"\n",
        kAdminToken, dir_, kAppUser, kAppPassword, source_->host(), source_->port(),
        source_->options().root_password);
    ASSERT_NO_FATAL_FAILURE(StartProxyProcess());
    StartClients();
  }

  // `cutover proxy --config config_` in the background; reads its ports.
  void StartProxyProcess() {
    proxy_ = std::make_unique<BackgroundCutover>(std::vector<std::string>{CUTOVER_BINARY, "proxy", "--config", config_});
    ASSERT_TRUE(proxy_->WaitForOutput("admin API on", 10s)) << proxy_->output();
    std::smatch m;
    const std::string out = proxy_->output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(listening on [0-9.]+:(\d+) .*admin API on [0-9.]+:(\d+))")))
        << out;
    port_ = static_cast<uint16_t>(std::stoi(m[1]));
    admin_port_ = static_cast<uint16_t>(std::stoi(m[2]));
  }

  void TearDown() override {
    stop_ = true;
    clients_.clear();  // joins
  }

  db::Endpoint ProxyEndpoint() const { return db::Endpoint{"127.0.0.1", port_, kAppUser, kAppPassword}; }

  // kClients sessions that query through the proxy until the test ends; a
  // failed query is counted and the session stops.
  void StartClients() {
    for (int i = 0; i < kClients; ++i) {
      clients_.emplace_back([this, i] {
        auto conn = db::Connection::Connect(ProxyEndpoint());
        if (!conn) {
          ++errors_;
          return;
        }
        ++connected_;
        while (!stop_) {
          auto v = conn->QueryValue(fmt::format("SELECT {} + CONNECTION_ID() * 0", i));
          if (!v || !*v || **v != std::to_string(i)) {
            ++errors_;
            return;
          }
          ++queries_;
          std::this_thread::sleep_for(2ms);
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (connected_ + errors_ < kClients && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(connected_.load(), kClients);
  }

  // The proxy process runs, every client session still answers, and a new
  // session can log in.
  void ExpectAlive(const std::string& after) {
    ASSERT_TRUE(proxy_->Running()) << "the proxy died after " << after << ":\n" << proxy_->output();
    const uint64_t before = queries_;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (queries_ < before + kClients && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_GE(queries_.load(), before + kClients) << "client sessions stopped answering after " << after;
    EXPECT_EQ(errors_.load(), 0) << "a client session failed after " << after;
    auto conn = db::Connection::Connect(ProxyEndpoint());
    ASSERT_TRUE(conn) << "no new session after " << after << ": " << conn.error().message();
    auto one = conn->QueryValue("SELECT 1");
    ASSERT_TRUE(one && *one) << after;
  }

  // curl, with the token given (or none), printing the body then the status code.
  Reply Curl(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& token = kAdminToken) {
    std::string command = fmt::format("curl -sS --max-time 10 -X {} -w '\\n%{{http_code}}' http://127.0.0.1:{}{}",
                                      method, admin_port_, path);
    if (!token.empty()) command += fmt::format(" -H 'Authorization: Bearer {}'", token);
    if (!body.empty()) command += fmt::format(" -H 'Content-Type: application/json' --data-binary '{}'", body);
    const CommandResult r = RunShell(command);
    Reply reply;
    const size_t last = r.output.rfind('\n');
    if (r.exit_code != 0 || last == std::string::npos) {
      ADD_FAILURE() << command << " failed: " << r.output;
      return reply;
    }
    reply.status = std::atoi(r.output.c_str() + last + 1);
    reply.body = r.output.substr(0, last);
    return reply;
  }

  std::unique_ptr<local::LocalServer> source_;
  std::string dir_;
  std::string config_;  // the proxy's cutover.toml
  std::unique_ptr<BackgroundCutover> proxy_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connected_{0};
  std::atomic<int> errors_{0};
  std::atomic<uint64_t> queries_{0};
  std::vector<std::jthread> clients_;
};

TEST_F(AdminApiTest, MetricsScrapedRepeatedlyWhileClientsQuery) {
  for (int i = 0; i < 20; ++i) {
    const Reply r = Curl("GET", "/metrics");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("# TYPE cutover_sessions gauge"), std::string::npos) << r.body;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.body, m, std::regex(R"(\ncutover_sessions (\d+)\n)"))) << r.body;
    EXPECT_GE(std::stoi(m[1]), kClients) << r.body;
    ExpectAlive("GET /metrics #" + std::to_string(i + 1));
  }
}

TEST_F(AdminApiTest, EveryEndpointAnswersTheRightTokenAndRefusesOthers) {
  const std::string here = fmt::format(R"({{"host": "{}", "port": {}}})", source_->host(), source_->port());
  const std::vector<std::pair<std::string, std::string>> endpoints = {
      {"GET", "/status"}, {"GET", "/metrics"}, {"POST", "/pause"},     {"POST", "/repoint"},
      {"POST", "/resume"}, {"POST", "/prepare"}, {"POST", "/unprepare"}};
  for (const auto& [method, path] : endpoints) {
    for (const std::string token : {"", "wrong-token"}) {
      const Reply r = Curl(method, path, path == "/repoint" || path == "/prepare" ? here : "", token);
      EXPECT_EQ(r.status, 401) << method << " " << path << " with token '" << token << "': " << r.body;
      EXPECT_NE(r.body.find("admin token"), std::string::npos) << r.body;
    }
    ExpectAlive(method + " " + path + " with a bad token");
  }

  Reply r = Curl("GET", "/status");
  ASSERT_EQ(r.status, 200) << r.body;
  auto status = nlohmann::json::parse(r.body);
  EXPECT_EQ(status["primary"], fmt::format("{}:{}", source_->host(), source_->port()));
  EXPECT_GE(status["session_count"].get<int>(), kClients);
  ExpectAlive("GET /status");

  // Prepare: every session opens a standby connection while it goes on
  // querying; unprepare closes them.
  r = Curl("POST", "/prepare", here);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(nlohmann::json::parse(r.body)["warmed"].get<int>(), kClients) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["failed"].get<int>(), 0) << r.body;
  status = nlohmann::json::parse(Curl("GET", "/status").body);
  EXPECT_EQ(status["prepared"], fmt::format("{}:{}", source_->host(), source_->port()));
  EXPECT_GE(status["standbys"].get<int>(), kClients);
  ExpectAlive("POST /prepare");
  // Again: every session has its standby, so nothing waits (this once hung:
  // lanes that finish at once were miscounted).
  r = Curl("POST", "/prepare", here);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(nlohmann::json::parse(r.body)["warmed"].get<int>(), kClients) << r.body;
  {
    // A session that logs in now opens its standby right after its login.
    auto late = db::Connection::Connect(ProxyEndpoint());
    ASSERT_TRUE(late) << late.error().message();
    const int before = status["standbys"].get<int>();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (status["standbys"].get<int>() <= before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      status = nlohmann::json::parse(Curl("GET", "/status").body);
    }
    EXPECT_GT(status["standbys"].get<int>(), before) << "a session that logged in after /prepare has no standby";
  }
  r = Curl("POST", "/unprepare");
  ASSERT_EQ(r.status, 200) << r.body;
  status = nlohmann::json::parse(Curl("GET", "/status").body);
  EXPECT_TRUE(status["prepared"].is_null()) << status.dump();
  EXPECT_EQ(status["standbys"].get<int>(), 0);
  ExpectAlive("POST /unprepare");

  // A server that cannot be reached: every session says why, none is hurt.
  r = Curl("POST", "/prepare", R"({"host": "127.0.0.1", "port": 1})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto failed = nlohmann::json::parse(r.body);
  EXPECT_EQ(failed["warmed"].get<int>(), 0) << r.body;
  EXPECT_GE(failed["failed"].get<int>(), kClients) << r.body;
  ASSERT_FALSE(failed["failures"].empty()) << r.body;
  EXPECT_NE(failed["failures"][0].get<std::string>().find("127.0.0.1:1"), std::string::npos) << r.body;
  ExpectAlive("POST /prepare to a closed port");
  ASSERT_EQ(Curl("POST", "/unprepare").status, 200);

  // Prepare again, then pause, re-point onto the same server (every session
  // swaps in its standby), resume: the clients only see a short wait, and no
  // standby is left.
  r = Curl("POST", "/prepare", here);
  ASSERT_EQ(r.status, 200) << r.body;
  r = Curl("POST", "/pause", R"({"drain_timeout_ms": 3000})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(nlohmann::json::parse(r.body)["drained"].get<bool>()) << r.body;
  r = Curl("POST", "/repoint", here);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(nlohmann::json::parse(r.body)["moved"].get<int>(), kClients) << r.body;
  r = Curl("POST", "/resume");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(nlohmann::json::parse(r.body)["paused"].get<bool>());
  ExpectAlive("pause, repoint and resume");
  status = nlohmann::json::parse(Curl("GET", "/status").body);
  EXPECT_TRUE(status["prepared"].is_null()) << status.dump();
  EXPECT_EQ(status["standbys"].get<int>(), 0);

  // Re-point without a pause is refused, and nothing moves.
  r = Curl("POST", "/repoint", here);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("needs a pause"), std::string::npos) << r.body;
  ExpectAlive("POST /repoint without a pause");
}

TEST_F(AdminApiTest, MalformedAndOversizedRequestsGetAClearErrorAndHarmNothing) {
  const std::string auth = fmt::format("Authorization: Bearer {}\r\n", kAdminToken);
  const auto post = [&](const std::string& path, const std::string& body) {
    return fmt::format("POST {} HTTP/1.1\r\n{}Content-Length: {}\r\n\r\n{}", path, auth, body.size(), body);
  };
  struct Case {
    const char* name;
    std::string bytes;
    int status;
    const char* says;
  };
  const Case cases[] = {
      {"garbage", "\x16\x03\x01\x02\x01\xfc\x03\x03\r\n\r\n", 400, "request line"},
      {"a body that is not JSON", post("/pause", "{drain"), 400, "not a JSON object"},
      {"a JSON array", post("/pause", "[1,2]"), 400, "not a JSON object"},
      {"drain_timeout_ms as a string", post("/pause", R"({"drain_timeout_ms": "abc"})"), 400, "drain_timeout_ms"},
      {"negative drain_timeout_ms", post("/pause", R"({"drain_timeout_ms": -5})"), 400, "drain_timeout_ms"},
      {"repoint without a port", post("/repoint", R"({"host": "127.0.0.1"})"), 400, "repoint needs"},
      {"repoint port out of range", post("/repoint", R"({"host": "127.0.0.1", "port": 70000})"), 400, "1-65535"},
      {"prepare without a host", post("/prepare", R"({"port": 3306})"), 400, "prepare needs"},
      {"prepare port as a string", post("/prepare", R"({"host": "127.0.0.1", "port": "3306"})"), 400, "1-65535"},
      {"pinned as a number", post("/repoint", R"({"host": "127.0.0.1", "port": 1, "pinned": 5})"), 400,
       "pinned must be"},
      {"move lease that is not an object", post("/pause", R"({"move": 5})"), 400, "move must be an object"},
      {"move lease without to", post("/pause", R"({"move": {"from": {"host": "127.0.0.1", "port": 1}}})"), 400,
       "move.to needs"},
      {"move lease without lease_ms",
       post("/pause", R"({"move": {"from": {"host": "a", "port": 1}, "to": {"host": "b", "port": 2},
                                   "from_was_read_only": false}})"),
       400, "lease_ms"},
      {"move lease with a negative connection id",
       post("/pause", R"({"move": {"from": {"host": "a", "port": 1}, "to": {"host": "b", "port": 2},
                                   "from_was_read_only": false, "lease_ms": 1000, "to_connection_ids": [-1]}})"),
       400, "non-id"},
      {"unknown endpoint", "GET /nothing HTTP/1.1\r\n" + auth + "\r\n", 404, "no such endpoint"},
      {"wrong method", "DELETE /status HTTP/1.1\r\n" + auth + "\r\n", 405, "takes GET"},
      {"chunked body", "POST /pause HTTP/1.1\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
       501, "Content-Length"},
      {"body over 64 KiB", "POST /pause HTTP/1.1\r\n" + auth + "Content-Length: 1048576\r\n\r\n", 413, "larger than"},
      {"head over 16 KiB", "GET /status HTTP/1.1\r\nX-Filler: " + std::string(40000, 'a') + "\r\n\r\n", 431,
       "larger than"},
      {"HTTP/2.0", "GET /status HTTP/2.0\r\n" + auth + "\r\n", 505, "HTTP/1"},
  };
  for (const auto& c : cases) {
    const Reply r = RawHttp(admin_port_, c.bytes);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_NE(r.body.find(c.says), std::string::npos) << c.name << ": " << r.body;
    ExpectAlive(c.name);
  }
  // None of them paused the proxy.
  const Reply status = Curl("GET", "/status");
  ASSERT_EQ(status.status, 200);
  EXPECT_FALSE(nlohmann::json::parse(status.body)["paused"].get<bool>());
}

TEST_F(AdminApiTest, ASlowClientHoldsUpNobodyAndIsDropped) {
  // One client sends half a request line and stops; another connects and
  // sends nothing.
  std::vector<int> slow;
  for (const std::string bytes : {"GET /sta", ""}) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(admin_port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    if (!bytes.empty()) ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    slow.push_back(fd);
  }
  const auto start = std::chrono::steady_clock::now();
  const Reply r = Curl("GET", "/status");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms) << "a slow admin client held up another";
  ExpectAlive("two stalled admin connections");
  // handshake_timeout_ms (1000 here) after connecting, the proxy closes both.
  for (int fd : slow) {
    char buf[64];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    EXPECT_EQ(n, 0) << "the proxy did not close a stalled admin connection";
    ::close(fd);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  ExpectAlive("dropping the stalled admin connections");
}


// The proxy process SIGKILLed after a move: restarted with the same config,
// whose [source] still names the old server, it comes back on the primary
// its state file recorded, and clients reconnect to it.
TEST_F(AdminApiTest, ProxyKilledAndRestartedComesBackOnTheRecordedPrimary) {
  std::unique_ptr<local::LocalServer> target = StartServer(2, "target");
  ASSERT_TRUE(target);
  CreateAppUser(*target);
  ASSERT_EQ(Curl("POST", "/pause", R"({"drain_timeout_ms": 3000})").status, 200);
  const Reply moved =
      Curl("POST", "/repoint", fmt::format(R"({{"host": "127.0.0.1", "port": {}}})", target->port()));
  ASSERT_EQ(moved.status, 200) << moved.body;
  ASSERT_EQ(Curl("POST", "/resume", "{}").status, 200);
  stop_ = true;
  clients_.clear();  // their connections die with the proxy

  proxy_->Signal(SIGKILL);
  proxy_->Wait(10s);
  ASSERT_NO_FATAL_FAILURE(StartProxyProcess());
  auto conn = db::Connection::Connect(ProxyEndpoint());
  ASSERT_TRUE(conn) << conn.error().message() << "\n" << proxy_->output();
  auto server_id = conn->QueryValue("SELECT @@server_id");
  ASSERT_TRUE(server_id) << server_id.error().message();
  EXPECT_EQ(server_id->value_or(""), "2") << "the restarted proxy must serve the primary it had moved to";
  const Reply status = Curl("GET", "/status");
  EXPECT_NE(status.body.find(fmt::format("127.0.0.1:{}", target->port())), std::string::npos) << status.body;
}


// The proxy process SIGKILLed while a move's lease holds clients paused: it
// comes back paused with the same lease (its state file keeps it), so that
// clients are not sent to a fenced old primary; the switchover's next call, or
// the guardian when the lease runs out, ends the pause. Once resumed, a
// restart is an ordinary one.
TEST_F(AdminApiTest, ProxyKilledDuringAMoveComesBackPausedWithTheLease) {
  const std::string lease = fmt::format(
      R"({{"drain_timeout_ms": 3000, "move": {{"from": {{"host": "127.0.0.1", "port": {}}}, "to": {{"host": )"
      R"("127.0.0.1", "port": 1}}, "from_was_read_only": false, "from_connection_ids": [12345], "lease_ms": 60000}}}})",
      source_->port());
  const Reply paused = Curl("POST", "/pause", lease);
  ASSERT_EQ(paused.status, 200) << paused.body;
  stop_ = true;
  proxy_->Signal(SIGKILL);
  proxy_->Wait(10s);
  clients_.clear();  // their connections died with the proxy (joined only now: paused, they would wait)
  ASSERT_NO_FATAL_FAILURE(StartProxyProcess());
  EXPECT_NE(proxy_->output().find("restarted in the middle of a move"), std::string::npos) << proxy_->output();
  Reply status = Curl("GET", "/status");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_TRUE(nlohmann::json::parse(status.body).value("paused", false)) << status.body;

  ASSERT_EQ(Curl("POST", "/resume", "{}").status, 200);
  proxy_->Signal(SIGKILL);
  proxy_->Wait(10s);
  ASSERT_NO_FATAL_FAILURE(StartProxyProcess());
  EXPECT_EQ(proxy_->output().find("restarted in the middle of a move"), std::string::npos) << proxy_->output();
  status = Curl("GET", "/status");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_FALSE(nlohmann::json::parse(status.body).value("paused", true)) << status.body;
  auto conn = db::Connection::Connect(ProxyEndpoint());
  ASSERT_TRUE(conn) << conn.error().message();
  auto one = conn->QueryValue("SELECT 1");
  ASSERT_TRUE(one) << one.error().message();
}

}  // namespace
}  // namespace cutover::testing
