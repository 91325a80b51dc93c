// Helpers shared by the libFuzzer targets in fuzz/: an invariant check that
// traps (so libFuzzer reports it as a crash with the input saved) and the
// capabilities a target derives from its input. Round trips compare with the
// parsed structs' own operator==.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "protocol/constants.h"

// Traps when `cond` is false. Unlike assert() it stays on in every build.
#define FUZZ_CHECK(cond)        \
  do {                          \
    if (!(cond)) __builtin_trap(); \
  } while (0)

namespace cutover::fuzz {

// The capability flags a parser's output depends on, taken from 4 bytes of
// the input: every combination of them is reachable.
inline protocol::Capabilities CapsFrom(const uint8_t* p) { return LoadU32(p); }

}  // namespace cutover::fuzz
