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

inline bool operator==(const SessionStateChanges& a, const SessionStateChanges& b) {
  return a.system_variables == b.system_variables && a.schema == b.schema && a.state_changed == b.state_changed &&
         a.gtids == b.gtids && a.transaction_characteristics == b.transaction_characteristics &&
         a.transaction_state == b.transaction_state;
}

inline bool operator==(const OkPacket& a, const OkPacket& b) {
  return a.affected_rows == b.affected_rows && a.last_insert_id == b.last_insert_id &&
         a.status_flags == b.status_flags && a.warnings == b.warnings && a.info == b.info &&
         a.session_state == b.session_state;
}

inline bool operator==(const HandshakeV10& a, const HandshakeV10& b) {
  return a.protocol_version == b.protocol_version && a.server_version == b.server_version &&
         a.connection_id == b.connection_id && a.auth_plugin_data == b.auth_plugin_data &&
         a.capabilities == b.capabilities && a.character_set == b.character_set &&
         a.status_flags == b.status_flags && a.mariadb_extended_capabilities == b.mariadb_extended_capabilities &&
         a.auth_plugin_name == b.auth_plugin_name;
}

inline bool operator==(const HandshakeResponse41& a, const HandshakeResponse41& b) {
  return a.capabilities == b.capabilities && a.max_packet_size == b.max_packet_size &&
         a.character_set == b.character_set && a.mariadb_extended_capabilities == b.mariadb_extended_capabilities &&
         a.username == b.username && a.auth_response == b.auth_response && a.database == b.database &&
         a.auth_plugin_name == b.auth_plugin_name && a.attributes == b.attributes;
}

inline bool operator==(const ChangeUser& a, const ChangeUser& b) {
  return a.username == b.username && a.auth_response == b.auth_response && a.database == b.database &&
         a.character_set == b.character_set && a.auth_plugin_name == b.auth_plugin_name &&
         a.attributes == b.attributes;
}

// Capabilities seen in the captures (MariaDB 10.11.19, Connector/C 3.3).
namespace captured {
// Greeting: 0x81fff7fe. CLIENT_MYSQL (bit 0) is clear, which marks a MariaDB
// server; CLIENT_SESSION_TRACK and CLIENT_DEPRECATE_EOF are offered.
inline constexpr Capabilities kServerCaps = 0x81fff7fe;
// libmariadb's login: 0x00bfa28c (no CLIENT_DEPRECATE_EOF, with CLIENT_SESSION_TRACK).
inline constexpr Capabilities kLibmariadbCaps = 0x00bfa28c;
inline constexpr uint32_t kMariaDbExtendedCaps = 0x1d;  // PROGRESS | STMT_BULK | EXTENDED_METADATA | CACHE_METADATA
}  // namespace captured

}  // namespace cutover::protocol
