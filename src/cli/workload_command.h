// `cutover workload`: runs the proof workload through an endpoint, shows it
// live, and checks the final primary for lost or duplicated writes.
// Thread-safety: called once from main.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "workload/workload.h"

namespace cutover::cli {

struct WorkloadCommandOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string user;
  std::string password;      // --password: visible in ps
  std::string password_env;  // --password-env: the variable that holds it
  int clients = 16;
  double duration_s = 30;   // 0: until Ctrl-C
  double rate = 0;          // operations per second across clients; 0: flat out
  bool setup = false;       // (re)create the schema first
  std::string check_host;   // the final primary; empty: host
  uint16_t check_port = 0;  // 0: port
  bool no_check = false;
  bool json = false;
  std::string schema = "cutover_workload";
  int accounts = 100;
  int64_t initial_balance = 1000;
  int append_percent = 40;
  int transfer_percent = 40;
};

// Exit status: 0 the check passed with no error seen; 1 lost, duplicated or
// unexpected writes, a bank mismatch, or errors seen by the clients; 2 the
// workload could not run or the check could not be made.
int RunWorkloadCommand(const WorkloadCommandOptions& options);

}  // namespace cutover::cli

namespace cutover::workload {

// The report as one JSON object (the windows as an array of objects). It lives
// in the cli layer so that workload/ does not depend on nlohmann.
nlohmann::json ToJson(const WorkloadReport& r);

}  // namespace cutover::workload
