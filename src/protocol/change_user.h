// COM_CHANGE_USER. Sans-io. Thread-safety: plain values.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "protocol/constants.h"

namespace cutover::protocol {

struct ChangeUser {
  std::string username;
  std::string auth_response;
  std::string database;
  uint16_t character_set = 0;   // present with CLIENT_PROTOCOL_41
  std::string auth_plugin_name;  // with CLIENT_PLUGIN_AUTH
  std::vector<std::pair<std::string, std::string>> attributes;  // with CLIENT_CONNECT_ATTRS

  bool operator==(const ChangeUser&) const = default;
};

// Parses the whole payload (command byte 0x11 first) under the session's
// negotiated capabilities. The auth response is 1-byte-length-prefixed with
// CLIENT_SECURE_CONNECTION, NUL-terminated otherwise.
[[nodiscard]] Result<ChangeUser> ParseChangeUser(ByteView payload, Capabilities caps);
// Writes the whole payload including the command byte.
void WriteChangeUser(const ChangeUser& c, Capabilities caps, Bytes& out);

}  // namespace cutover::protocol
