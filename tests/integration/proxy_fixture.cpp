#include "proxy_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

namespace cutover::testing {

std::unique_ptr<local::LocalServer> StartServer(int server_id, const std::string& name,
                                                const std::vector<std::string>& extra_args) {
  local::LocalServerOptions options;
  options.server_id = server_id;
  options.name = name;
  options.max_connections = 2000;
  options.extra_args = {"--max-allowed-packet=64M", "--local-infile=1"};
  options.extra_args.insert(options.extra_args.end(), extra_args.begin(), extra_args.end());
  auto server = local::LocalServer::Start(options);
  if (!server) {
    ADD_FAILURE() << server.error().message();
    return nullptr;
  }
  return std::move(*server);
}

void CreateAppUser(local::LocalServer& server) {
  auto root = server.ConnectRoot();
  ASSERT_TRUE(root) << root.error().message();
  for (const char* sql : {"SET SESSION sql_log_bin = 0",
                          "CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app-secret'",
                          "GRANT ALL PRIVILEGES ON *.* TO 'app'@'%'", "CREATE DATABASE IF NOT EXISTS app"}) {
    ASSERT_TRUE(root->Execute(sql)) << sql;
  }
}

HttpResult Http(uint16_t port, const std::string& method, const std::string& path, const std::string& body,
                const std::string& token) {
  HttpResult result;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return result;
  }
  const std::string request =
      fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n{}",
                  method, path, token, body.size(), body);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, size_t(n));
  ::close(fd);
  if (response.size() > 12) result.status = std::atoi(response.c_str() + 9);
  const size_t body_start = response.find("\r\n\r\n");
  if (body_start != std::string::npos) {
    result.body = nlohmann::json::parse(response.substr(body_start + 4), nullptr, false);
  }
  return result;
}

CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string ClientScript(const std::string& name) {
  return std::string(CUTOVER_SOURCE_DIR) + "/tests/integration/clients/" + name;
}

void ExpectClientOk(const CommandResult& r, const std::string& ok_line) {
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(ok_line), std::string::npos) << r.output;
}

std::string WithServerTimeout(const std::string& config_path, int seconds) {
  std::ifstream in(config_path);
  const std::string path = fmt::format("{}.timeout-{}.toml", config_path, seconds);
  std::ofstream out(path);
  std::string line;
  while (std::getline(in, line)) {
    out << line << "\n";
    if (line == "[source]" || line == "[target]") out << "timeout_s = " << seconds << "\n";
  }
  return path;
}

void ProxyTest::SetUp() {
  source_ = StartServer(1, "source");
  ASSERT_TRUE(source_);
  CreateAppUser(*source_);
}

void ProxyAndTargetTest::SetUp() {
  ProxyTest::SetUp();
  target_ = StartServer(2, "target");
  ASSERT_TRUE(target_);
  CreateAppUser(*target_);
}

void ProxyAndTargetTest::MoveEverySessionToTarget(int moved) {
  const std::string body = fmt::format(R"({{"host": "127.0.0.1", "port": {}, "pinned": "refuse"}})", target_->port());
  auto pause = Admin("POST", "/pause", R"({"drain_timeout_ms": 2000})");
  ASSERT_EQ(pause.status, 200) << pause.body.dump();
  auto repoint = Admin("POST", "/repoint", body);
  ASSERT_EQ(repoint.status, 200) << repoint.body.dump();
  EXPECT_EQ(repoint.body["moved"], moved) << repoint.body.dump();
  ASSERT_EQ(Admin("POST", "/resume").status, 200);
}

void ProxyTest::TearDown() {
  if (proxy_) proxy_->Stop();
  admin_.reset();
  proxy_.reset();
}

proxy::ProxyConfig ProxyTest::DefaultConfig() const {
  proxy::ProxyConfig config;
  config.listen = {"127.0.0.1", 0};
  config.admin_listen = {"127.0.0.1", 0};
  config.admin_token = kAdminToken;
  config.users.push_back(proxy::ProxyUser{
      kAppUser, false, protocol::NativePasswordStage2(protocol::NativePasswordStage1(kAppPassword))});
  config.primary = {source_->host(), source_->port()};
  return config;
}

void ProxyTest::StartProxy(proxy::ProxyConfig config) {
  proxy_ = std::make_unique<proxy::ProxyServer>(std::move(config));
  auto st = proxy_->Start();
  ASSERT_TRUE(st) << st.error().message();
  admin_ = std::make_unique<proxy::AdminApi>(*proxy_);
  auto admin_started = admin_->Start();
  ASSERT_TRUE(admin_started) << admin_started.error().message();
}

db::Endpoint ProxyTest::ProxyEndpoint(const std::string& user, const std::string& password) const {
  return db::Endpoint{"127.0.0.1", proxy_->listen_port(), user, password};
}

db::Connection ProxyTest::ConnectProxy() {
  auto conn = db::Connection::Connect(ProxyEndpoint());
  if (!conn) {
    ADD_FAILURE() << conn.error().message();
    std::abort();
  }
  return std::move(*conn);
}

std::string ProxyTest::ShellArgs() const {
  return fmt::format("-h127.0.0.1 -P{} -u{} -p{}", proxy_->listen_port(), kAppUser, kAppPassword);
}

}  // namespace cutover::testing
