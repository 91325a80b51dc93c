#include "cli/local_server_command.h"

#include <csignal>

#include <fmt/format.h>

#include "db/connection.h"
#include "local/local_server.h"

namespace cutover::cli {

int RunLocalServer(const LocalServerCommandOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  local::LocalServerOptions server_options;
  server_options.name = options.name;
  server_options.server_id = options.server_id;
  server_options.buffer_pool = options.buffer_pool;
  server_options.max_connections = options.max_connections;
  server_options.extra_args = options.extra_args;
  auto server = local::LocalServer::Start(server_options);
  if (!server) {
    fmt::print(stderr, "cutover local-server: {}\n", server.error().message());
    return 2;
  }
  if (!options.app_user.empty()) {
    auto root = (*server)->ConnectRoot();
    Status st = root ? Status{} : Fail(root.error());
    for (const std::string& sql :
         {std::string("SET SESSION sql_log_bin = 0"),
          fmt::format("CREATE USER '{}'@'%' IDENTIFIED BY {}", options.app_user, root->Quote(options.app_password)),
          fmt::format("GRANT ALL PRIVILEGES ON *.* TO '{}'@'%'", options.app_user)}) {
      if (st) st = root->Execute(sql);
    }
    if (!st) {
      fmt::print(stderr, "cutover local-server: creating user '{}': {}\n", options.app_user, st.error().message());
      return 2;
    }
  }
  fmt::print("port={}\nroot_password={}\ndatadir={}\npid={}\n", (*server)->port(), server_options.root_password,
             (*server)->datadir(), (*server)->pid());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  return 0;
}

}  // namespace cutover::cli
