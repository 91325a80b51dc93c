// What a workload run does and where. See workload.h.
// Thread-safety: a plain value.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "db/endpoint.h"

namespace cutover::workload {

struct WorkloadOptions {
  db::Endpoint endpoint;  // where clients connect (usually the proxy)
  int clients = 16;
  std::chrono::milliseconds duration{10000};  // 0: until Stop()
  double rate = 0;                            // total operations per second across clients; 0: as fast as possible
  std::string schema = "cutover_workload";
  int accounts = 100;
  int64_t initial_balance = 1000;
  int append_percent = 40, transfer_percent = 40;  // rest: reads
  // An operation with no answer for this long fails with 2013 (and counts as
  // an error and a stall); it also bounds how long Stop() can wait.
  std::chrono::seconds read_timeout{60};
  std::chrono::seconds connect_timeout{5};

  int64_t bank_total() const { return static_cast<int64_t>(accounts) * initial_balance; }
};

}  // namespace cutover::workload
