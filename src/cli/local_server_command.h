// `cutover local-server`: starts a throw-away mariadbd (src/local) and keeps
// it until SIGINT/SIGTERM, for trying the proxy and for benchmarks.
// Thread-safety: called once from main.
#pragma once

#include <string>
#include <vector>

namespace cutover::cli {

struct LocalServerCommandOptions {
  std::string name = "server";
  int server_id = 1;
  std::string buffer_pool = "128M";
  int max_connections = 1000;
  std::string app_user;      // created with all privileges when set
  std::string app_password;
  std::vector<std::string> extra_args;
};

// Prints "port=N" and the root credentials on stdout once the server is
// ready. Returns the exit status.
int RunLocalServer(const LocalServerCommandOptions& options);

}  // namespace cutover::cli
