#include "protocol/change_user.h"

#include <cassert>

#include <fmt/format.h>

#include "protocol/handshake_response.h"

namespace cutover::protocol {
namespace {

Result<std::string> ParseAuthResponse(ByteReader& r, Capabilities caps) {
  if (!(caps & capability::kSecureConnection)) return r.NulString();
  auto len = r.U8();
  if (!len) return Fail(len.error());
  return r.FixedString(*len);
}

// The fields after the database. Servers treat them as optional; cutover
// requires each one its capability announces, so that a cut packet is caught.
Status ParseChangeUserTail(ByteReader& r, Capabilities caps, ChangeUser& c) {
  if (caps & capability::kProtocol41) {
    auto charset = r.U16();
    if (!charset) return Fail(charset.error());
    c.character_set = *charset;
  }
  if (caps & capability::kPluginAuth) {
    auto plugin = r.NulString();
    if (!plugin) return Fail(plugin.error());
    c.auth_plugin_name = std::move(*plugin);
  }
  if (caps & capability::kConnectAttrs) {
    auto attrs = ParseConnectAttributes(r);
    if (!attrs) return Fail(attrs.error());
    c.attributes = std::move(*attrs);
  }
  return {};
}

}  // namespace

Result<ChangeUser> ParseChangeUser(ByteView payload, Capabilities caps) {
  ByteReader r(payload);
  auto command = r.U8();
  if (!command) return Fail(command.error());
  if (*command != uint8_t(Command::kChangeUser)) {
    return Fail(Error::Malformed(fmt::format("expected COM_CHANGE_USER, got command 0x{:02x}", *command)));
  }
  ChangeUser c;
  auto user = r.NulString();
  if (!user) return Fail(user.error());
  c.username = std::move(*user);
  auto auth = ParseAuthResponse(r, caps);
  if (!auth) return Fail(auth.error());
  c.auth_response = std::move(*auth);
  auto db = r.NulString();
  if (!db) return Fail(db.error());
  c.database = std::move(*db);
  if (auto tail = ParseChangeUserTail(r, caps, c); !tail) return Fail(tail.error());
  if (auto end = r.ExpectEnd("COM_CHANGE_USER"); !end) return Fail(end.error());
  return c;
}

void WriteChangeUser(const ChangeUser& c, Capabilities caps, Bytes& out) {
  ByteWriter w(out);
  w.U8(uint8_t(Command::kChangeUser));
  w.NulString(c.username);
  if (caps & capability::kSecureConnection) {
    assert(c.auth_response.size() <= 0xff);
    w.U8(uint8_t(c.auth_response.size()));
    w.Raw(c.auth_response);
  } else {
    w.NulString(c.auth_response);
  }
  w.NulString(c.database);
  if (caps & capability::kProtocol41) w.U16(c.character_set);
  if (caps & capability::kPluginAuth) w.NulString(c.auth_plugin_name);
  if (caps & capability::kConnectAttrs) WriteConnectAttributes(c.attributes, w);
}

}  // namespace cutover::protocol
