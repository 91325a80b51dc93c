// Helpers shared by the protocol unit tests: hex byte vectors, the
// truncated-prefix check, and field-by-field equality for round trips.
#pragma once

#include <cctype>
#include <string_view>

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "protocol/change_user.h"
#include "protocol/handshake.h"
#include "protocol/handshake_response.h"
#include "protocol/ok_packet.h"
#include "protocol/session_state.h"

namespace cutover::protocol {

// "0a 1b ff" -> bytes; whitespace is ignored so captures can be wrapped.
inline Bytes FromHex(std::string_view hex) {
  Bytes out;
  int hi = -1;
  for (char c : hex) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi << 4 | v));
      hi = -1;
    }
  }
  EXPECT_EQ(hi, -1) << "odd number of hex digits";
  return out;
}

inline bool IsTruncationError(const Error& e) {
  return e.code() == ErrorCode::kIncomplete || e.code() == ErrorCode::kMalformed;
}

// Asserts that parse(prefix) fails with kIncomplete or kMalformed for every
// prefix of `full` shorter than `upto` bytes.
template <class Parse>
void ExpectPrefixesFail(ByteView full, size_t upto, Parse parse) {
  for (size_t n = 0; n < upto && n < full.size(); ++n) {
    auto r = parse(full.first(n));
    ASSERT_FALSE(r.has_value()) << "prefix of " << n << " bytes parsed as a value";
    EXPECT_TRUE(IsTruncationError(r.error())) << "prefix of " << n << " bytes: " << r.error().message();
  }
}

// Capabilities seen in the captures (MariaDB 10.11.19, Connector/C 3.3).
namespace captured {
// Greeting: 0x81fff7fe. CLIENT_MYSQL (bit 0) is clear, which marks a MariaDB
// server; CLIENT_SESSION_TRACK and CLIENT_DEPRECATE_EOF are offered.
inline constexpr Capabilities kServerCaps = 0x81fff7fe;
// libmariadb's login: 0x00bfa28c (no CLIENT_DEPRECATE_EOF, with CLIENT_SESSION_TRACK).
inline constexpr Capabilities kLibmariadbCaps = 0x00bfa28c;
// Both sides' MariaDB extended capabilities, the high 32 bits: PROGRESS |
// STMT_BULK_OPERATIONS | EXTENDED_METADATA | CACHE_METADATA.
inline constexpr Capabilities kMariaDbExtendedCaps = 0x1dull << 32;
}  // namespace captured

}  // namespace cutover::protocol
