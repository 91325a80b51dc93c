// `cutover proxy`: runs the MySQL-protocol proxy and its admin API until
// SIGINT or SIGTERM. Thread-safety: called once from main.
#pragma once

#include <string>

namespace cutover::cli {

struct ProxyOptions {
  std::string config_path;
};

// Returns the process exit status (0 clean stop, 2 error).
int RunProxy(const ProxyOptions& options);

}  // namespace cutover::cli
