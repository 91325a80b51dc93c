// `cutover demo`: the whole journey on two local MariaDB servers, under load.
// Thread-safety: called once from main.
#pragma once

namespace cutover::cli {

struct DemoOptions {
  int clients = 8;
  double rate = 400;       // workload operations per second through the proxy
  int tables = 4;
  int rows = 50000;        // per sample table
  int settle_seconds = 2;  // load kept running after each step
};

// Exit status: 0 the move went through with no client error and no lost
// write, 1 the workload saw an error or a lost write, 2 the demo failed.
int RunDemo(const DemoOptions& options);

}  // namespace cutover::cli
