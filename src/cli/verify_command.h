// `cutover verify`: compares [source] and [target] while writes go on.
// Thread-safety: called once from main.
#pragma once

#include <string>

#include "verify/verify.h"

namespace cutover::cli {

struct VerifyCommandOptions {
  std::string config_path;
  verify::VerifyOptions verify;  // source and target come from the config
  int chunk_time_ms = 250;
  bool json = false;
};

// Exit status: 0 identical, 1 differences found, 2 could not finish.
int RunVerifyCommand(VerifyCommandOptions options);

}  // namespace cutover::cli
