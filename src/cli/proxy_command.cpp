#include "cli/proxy_command.h"

#include <sys/resource.h>

#include <csignal>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/config.h"
#include "cli/move_guardian.h"
#include "proxy/admin_api.h"
#include "proxy/proxy_server.h"

namespace cutover::cli {

int RunProxy(const ProxyOptions& options) {
  auto config = LoadConfig(options.config_path);
  if (!config) {
    fmt::print(stderr, "cutover proxy: {}\n", config.error().message());
    return 2;
  }
  // Block the stop signals and SIGHUP (reload the TLS files) before any
  // thread starts, so that only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Every session holds two sockets: allow as many as the hard limit does.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  proxy::ProxyServer server(config->proxy);
  auto guardian = MakeMoveGuardian(*config);
  if (!guardian) {
    spdlog::warn("no [target] in the config: if a switchover dies while clients are paused, this proxy cannot end "
                 "the move itself (clients wait until max_pause_ms)");
  }
  server.SetMoveGuardian(std::move(guardian));
  if (auto st = server.Start(); !st) {
    fmt::print(stderr, "cutover proxy: {}\n", st.error().message());
    return 2;
  }
  proxy::AdminApi admin(server);
  if (auto st = admin.Start(); !st) {
    fmt::print(stderr, "cutover proxy: {}\n", st.error().message());
    return 2;
  }
  spdlog::info("cutover proxy listening on {}:{} ({} thread(s)), admin API on {}:{}, primary {}",
               config->proxy.listen.host, server.listen_port(), config->proxy.threads,
               config->proxy.admin_listen.host, admin.port(), config->proxy.primary.ToString());
  int signal = 0;
  while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    (void)server.ReloadTls();  // logs the outcome; a failure keeps the files in use
  }
  spdlog::info("stopping on signal {}", signal);
  server.Stop();
  return 0;
}

}  // namespace cutover::cli
