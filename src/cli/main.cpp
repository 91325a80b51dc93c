// The cutover command line: one binary, one subcommand per step of the move.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/clone_command.h"
#include "cli/demo_command.h"
#include "cli/local_server_command.h"
#include "cli/switchover_command.h"
#include "cli/verify_command.h"
#include "cli/workload_command.h"
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
      "TLS towards clients with [proxy] tls_cert/tls_key (require_tls refuses plaintext), towards\n"
      "servers with [source]/[target] tls = \"verify\"|\"required\"; SIGHUP reloads the TLS files.\n"
      "Stops on SIGINT or SIGTERM.\n"
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

  cutover::cli::CloneCommandOptions clone_options;
  CLI::App* clone = app.add_subcommand(
      "clone",
      "Provision the target ([target]) from the live source ([source]) and make it replicate.\n"
      "Pre-checks both servers (changing nothing on failure), opens a consistent snapshot without\n"
      "any lock, copies schema and data in parallel key-range chunks (not written to the target's\n"
      "binary log), creates triggers and events, starts replication from the snapshot's GTID with\n"
      "the [replication] account, sets the target read_only, and follows it until caught up.\n"
      "An interrupted clone leaves the target marked incomplete; rerunning starts over.\n"
      "Example: cutover clone --config cutover.toml --threads 4 --with-users");
  clone->add_option("--config", clone_options.config_path, "configuration file (TOML): [source], [target], [replication]")
      ->required();
  clone->add_option("--threads", clone_options.clone.threads, "copy workers (one snapshot session each)")
      ->capture_default_str();
  clone->add_option("--chunk-rows", clone_options.clone.chunk_rows, "rows per key-range chunk")->capture_default_str();
  clone->add_flag("--force", clone_options.clone.force,
                  "target already holds some of the source's schemas: drop and re-create them (others are kept)");
  clone->add_flag("--with-users", clone_options.clone.with_users,
                  "also copy accounts and grants (all but root and built-in ones; existing ones are kept)");
  clone->add_flag("--create-replication-user", clone_options.clone.create_replication_user,
                  "create the [replication] account on the source if it cannot log in");
  clone->add_flag("--adopt", clone_options.clone.adopt,
                  "the target already replicates from the source (restored from a backup): validate it and skip the copy");
  clone->add_flag("!--no-defer-indexes", clone_options.clone.defer_indexes,
                  "create secondary indexes with the table instead of after its data");
  clone->add_option("--replica-threads", clone_options.clone.replica_threads,
                    "set the target's slave_parallel_threads so it applies in parallel (0: leave the server's setting)")
      ->capture_default_str();
  clone->add_flag("!--no-wait", clone_options.clone.wait, "exit once replication is started, without waiting to catch up");
  clone->add_option("--catchup-timeout", clone_options.catchup_timeout_s,
                    "seconds to wait for replication to catch up (0: no limit)")
      ->capture_default_str();
  clone->add_flag("--json", clone_options.json, "one JSON object per line (steps, progress, lag, done/error)");

  cutover::cli::VerifyCommandOptions verify_options;
  CLI::App* verify = app.add_subcommand(
      "verify",
      "Prove that [target] holds the same rows as [source] while the source keeps writing.\n"
      "Tables are compared in key-range chunks by a 64-bit checksum computed on each server, with\n"
      "both sides at the same GTID (the target's replication is stopped at the source's position\n"
      "for a few milliseconds per round). A differing chunk is drilled down to its keys, which are\n"
      "rechecked at a later GTID before they are reported.\n"
      "Exit status: 0 identical, 1 differences found, 2 could not finish.\n"
      "Example: cutover verify --config cutover.toml");
  verify->add_option("--config", verify_options.config_path, "configuration file (TOML): [source], [target]")->required();
  verify->add_option("--threads", verify_options.verify.threads, "sessions per server comparing chunks in parallel")
      ->capture_default_str();
  verify->add_option("--chunk-time-ms", verify_options.chunk_time_ms, "time aimed at per chunk; sizes adapt to it")
      ->capture_default_str();
  verify->add_option("--max-lag", verify_options.verify.max_lag_seconds,
                     "seconds of replication lag above which verify slows down")
      ->capture_default_str();
  verify->add_option("--schema", verify_options.verify.schemas, "compare only this schema (repeatable)");
  verify->add_flag("--json", verify_options.json, "JSON lines: steps, progress, then one report object");

  cutover::cli::SwitchoverCommandOptions move_options;
  auto add_move_flags = [&](CLI::App* cmd, bool resumable) {
    cmd->add_option("--config", move_options.config_path,
                    "configuration file (TOML): [proxy], [source], [target], [replication], [switchover]")
        ->required();
    if (resumable) {
      auto* resume = cmd->add_flag("--resume", move_options.resume,
                                   "finish the move recorded in the state file (its orchestrator died)");
      cmd->add_flag("--abort", move_options.abort,
                    "undo the move recorded in the state file (refused past the commit point)")
          ->excludes(resume);
      cmd->add_flag("--kill-open-transactions", move_options.kill_open_transactions,
                    "kill transactions still open at the drain timeout instead of aborting");
      cmd->add_flag("--close-pinned", move_options.close_pinned,
                    "close sessions whose state cannot move (temporary tables, locks...) instead of refusing");
    }
    cmd->add_flag("--json", move_options.json, "JSON lines: one per step, then done or error");
  };
  CLI::App* switchover = app.add_subcommand(
      "switchover",
      "Make [target] the primary while clients see a pause, never an error:\n"
      "pre-checks (replication healthy and lag small, no long transactions or DDL, users and the\n"
      "replication account present on the target, binlog on, proxy reachable, no other move), pause\n"
      "the proxy and let transactions finish, fence the old primary (read_only + block every commit),\n"
      "wait until the target applied its final GTID, promote the target (the commit point), move every\n"
      "session with its state, resume, and make the old primary replicate from the new one.\n"
      "A failure before the commit point rolls everything back. Each step is saved in\n"
      "switchover.state_file first: --resume finishes a move whose orchestrator died, --abort undoes it.\n"
      "Exit status: 0 moved, 2 refused or failed.\n"
      "Example: cutover switchover --config cutover.toml");
  add_move_flags(switchover, true);
  CLI::App* rollback = app.add_subcommand(
      "rollback",
      "The same move in reverse, back onto [source], which has followed the new primary since the\n"
      "switchover: nothing written in between is lost. Example: cutover rollback --config cutover.toml");
  add_move_flags(rollback, true);
  CLI::App* finish = app.add_subcommand(
      "finish",
      "After a switchover: stop reverse replication on the old primary ([source]) and release it.\n"
      "It stays read-only; no rollback is possible afterwards. Example: cutover finish --config cutover.toml");
  add_move_flags(finish, false);

  cutover::cli::WorkloadCommandOptions workload_options;
  CLI::App* workload = app.add_subcommand(
      "workload",
      "The proof tool: N client connections through any endpoint (usually the proxy) run appends\n"
      "(autocommit INSERTs of client id and sequence number), bank transfers (explicit transactions\n"
      "that keep the total of all balances) and reads, for --duration seconds or until Ctrl-C. Every\n"
      "error is counted by its code, never retried or hidden; a lost connection is reopened before\n"
      "the next operation. Prints a line a second, then operations, errors by code, the longest\n"
      "operation (the client-visible stall) and latency percentiles. Then it checks the final primary:\n"
      "every acknowledged append present exactly once, and the bank total intact.\n"
      "Exit status: 0 all good, 1 lost or duplicated writes, a bank mismatch or client errors,\n"
      "2 could not run or check.\n"
      "Example: cutover workload --host 127.0.0.1 --port 6033 --user app --password-env APP_PW --setup");
  workload->add_option("--host", workload_options.host, "where clients connect (usually the proxy)")
      ->capture_default_str();
  workload->add_option("--port", workload_options.port, "port of --host")->capture_default_str();
  workload->add_option("--user", workload_options.user, "user to log in as")->required();
  workload->add_option("--password-env", workload_options.password_env, "environment variable holding the password");
  workload->add_option("--password", workload_options.password, "the password (visible in ps; prefer --password-env)");
  workload->add_option("--clients", workload_options.clients, "client connections, each on its own thread")
      ->capture_default_str();
  workload->add_option("--duration", workload_options.duration_s, "seconds to run (0: until Ctrl-C)")
      ->capture_default_str();
  workload->add_option("--rate", workload_options.rate,
                       "operations per second across all clients (0: as fast as possible)")
      ->capture_default_str();
  workload->add_flag("--setup", workload_options.setup, "drop and create the schema and its bank first");
  workload->add_option("--schema", workload_options.schema, "schema holding the appends and accounts tables")
      ->capture_default_str();
  workload->add_option("--accounts", workload_options.accounts, "bank accounts")->capture_default_str();
  workload->add_option("--initial-balance", workload_options.initial_balance, "balance of each account at --setup")
      ->capture_default_str();
  workload->add_option("--append-percent", workload_options.append_percent, "share of appends")->capture_default_str();
  workload->add_option("--transfer-percent", workload_options.transfer_percent, "share of transfers (the rest: reads)")
      ->capture_default_str();
  workload->add_option("--check-host", workload_options.check_host,
                       "the final primary to check against (default: --host)");
  workload->add_option("--check-port", workload_options.check_port, "its port (default: --port)");
  workload->add_flag("--no-check", workload_options.no_check, "skip the check; exit 1 only if clients saw errors");
  workload->add_flag("--json", workload_options.json, "JSON lines: progress each second, then one report object");

  cutover::cli::DemoOptions demo_options;
  CLI::App* demo = app.add_subcommand(
      "demo",
      "The whole journey on two local MariaDB servers it starts itself, under load: a small source\n"
      "with sample data, an empty bigger target, the proxy, a workload through the proxy the whole\n"
      "time; then clone, verify and switchover, and what the clients saw: longest pause, errors and\n"
      "lost writes. Cleans everything up on exit or Ctrl-C. Example: cutover demo");
  demo->add_option("--clients", demo_options.clients, "workload client connections")->capture_default_str();
  demo->add_option("--rate", demo_options.rate, "workload operations per second (0: flat out)")->capture_default_str();
  demo->add_option("--tables", demo_options.tables, "sample tables")->capture_default_str();
  demo->add_option("--rows", demo_options.rows, "rows per sample table")->capture_default_str();

  cutover::cli::ReplicationStatusOptions replication_options;
  CLI::App* replication = app.add_subcommand("replication", "Inspect replication between [source] and [target].");
  replication->require_subcommand(1);
  CLI::App* replication_status = replication->add_subcommand(
      "status",
      "Show whether the target replicates, its lag, and both servers' GTID positions.\n"
      "Exit status: 0 replicating, 1 not replicating, an incomplete clone or errant transactions on the\n"
      "replica (named, with how to repair), 2 an error.\n"
      "Example: cutover replication status --config cutover.toml");
  replication_status->add_option("--config", replication_options.config_path, "configuration file (TOML)")->required();
  replication_status->add_flag("--json", replication_options.json, "print JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Prints the help text or the error; usage errors are exit status 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (*proxy) return cutover::cli::RunProxy(proxy_options);
  if (*local_server) return cutover::cli::RunLocalServer(local_options);
  if (*clone) return cutover::cli::RunCloneCommand(clone_options);
  if (*switchover) return cutover::cli::RunSwitchoverCommand(move_options, "target");
  if (*rollback) return cutover::cli::RunSwitchoverCommand(move_options, "source");
  if (*finish) return cutover::cli::RunFinishCommand(move_options);
  if (*demo) return cutover::cli::RunDemo(demo_options);
  if (*verify) return cutover::cli::RunVerifyCommand(verify_options);
  if (*workload) return cutover::cli::RunWorkloadCommand(workload_options);
  if (*replication_status) return cutover::cli::RunReplicationStatus(replication_options);
  return 2;
}
