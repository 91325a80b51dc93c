// The cutover command line: one binary, one subcommand per step of the move.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/local_server_command.h"
#include "cli/proxy_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "cutover moves a live MySQL/MariaDB primary to a new server with no client-visible downtime.\n"
      "Exit status: 0 done, 1 a finding (verify found differences), 2 an error."};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();

  cutover::cli::ProxyOptions proxy_options;
  CLI::App* proxy = app.add_subcommand(
      "proxy",
      "Run the MySQL-protocol proxy: applications connect here instead of to the database.\n"
      "It authenticates clients against [[proxy.users]], forwards to the current primary\n"
      "([source], or the one the state file names after a move), and serves the admin API.\n"
      "Example: cutover proxy --config cutover.toml");
  proxy->add_option("--config", proxy_options.config_path, "configuration file (TOML)")->required();

  cutover::cli::LocalServerCommandOptions local_options;
  CLI::App* local_server = app.add_subcommand(
      "local-server",
      "Start a throw-away MariaDB server on 127.0.0.1 (a free port, a temporary datadir,\n"
      "binlog on) and keep it until Ctrl-C; prints port=N when ready. For trying the proxy\n"
      "and for benchmarks. Example: cutover local-server --app-user app --app-password secret");
  local_server->add_option("--name", local_options.name, "name used in its directory and messages")->capture_default_str();
  local_server->add_option("--server-id", local_options.server_id, "server_id")->capture_default_str();
  local_server->add_option("--buffer-pool", local_options.buffer_pool, "innodb_buffer_pool_size")->capture_default_str();
  local_server->add_option("--max-connections", local_options.max_connections, "max_connections")->capture_default_str();
  local_server->add_option("--app-user", local_options.app_user, "create this user with all privileges");
  local_server->add_option("--app-password", local_options.app_password, "password of --app-user");
  local_server->add_option("--mariadbd-arg", local_options.extra_args, "extra mariadbd argument (repeatable)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Prints the help text or the error; usage errors are exit status 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (*proxy) return cutover::cli::RunProxy(proxy_options);
  if (*local_server) return cutover::cli::RunLocalServer(local_options);
  return 2;
}
