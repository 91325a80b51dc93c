// A real mariadbd (or two) and an in-process cutover proxy in front of it,
// for tests that drive the proxy with real clients.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "db/connection.h"
#include "local/local_server.h"
#include "proxy/admin_api.h"
#include "proxy/proxy_server.h"

namespace cutover::testing {

inline constexpr char kAppUser[] = "app";
inline constexpr char kAppPassword[] = "app-secret";
inline constexpr char kAdminToken[] = "test-token";

// Starts a server or fails the test (a server that cannot start is a failure).
// `extra_args` go to mariadbd after the fixture's own.
std::unique_ptr<local::LocalServer> StartServer(int server_id, const std::string& name,
                                                const std::vector<std::string>& extra_args = {});
// Creates the application user and database `app` on a server.
void CreateAppUser(local::LocalServer& server);

struct HttpResult {
  int status = 0;
  nlohmann::json body;
};
// One HTTP request to 127.0.0.1:port; the token is sent as a bearer token.
HttpResult Http(uint16_t port, const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& token = kAdminToken);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs a shell command and captures its output.
CommandResult RunShell(const std::string& command);

// The path of a script in tests/integration/clients.
std::string ClientScript(const std::string& name);
// A client script succeeded: exit status 0 and its final "<scenario>: ok" line
// (so that a script that stopped early without an error does not pass).
void ExpectClientOk(const CommandResult& r, const std::string& ok_line);

// A copy of the config file at `config_path` whose [source] and [target] have
// `timeout_s = seconds`; returns the copy's path (next to the original).
std::string WithServerTimeout(const std::string& config_path, int seconds);

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts the proxy in front of source_ with `config` adjusted by the test.
  void StartProxy(proxy::ProxyConfig config);
  proxy::ProxyConfig DefaultConfig() const;
  db::Endpoint ProxyEndpoint(const std::string& user = kAppUser, const std::string& password = kAppPassword) const;
  db::Connection ConnectProxy();
  HttpResult Admin(const std::string& method, const std::string& path, const std::string& body = "") {
    return Http(admin_->port(), method, path, body);
  }
  std::string ShellArgs() const;  // "-h127.0.0.1 -P<port> -uapp -p<pw>" for the mariadb CLI

  std::unique_ptr<local::LocalServer> source_;
  std::unique_ptr<proxy::ProxyServer> proxy_;
  std::unique_ptr<proxy::AdminApi> admin_;
};

// A proxy in front of source_, and a second server (server_id 2, the app
// user on it) that sessions can move to.
class ProxyAndTargetTest : public ProxyTest {
 protected:
  void SetUp() override;
  // Pauses, re-points to target_ and resumes: every session at a transaction
  // boundary moves there. Expects `moved` sessions moved.
  void MoveEverySessionToTarget(int moved = 1);
  std::unique_ptr<local::LocalServer> target_;
};

}  // namespace cutover::testing
