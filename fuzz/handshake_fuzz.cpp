// ParseHandshakeV10 (the server greeting) on arbitrary payloads, and
// parse(write(parse(x))) == parse(x).
#include "fuzz_util.h"
#include "protocol/handshake.h"

using namespace cutover;
using namespace cutover::protocol;

namespace {

bool Same(const HandshakeV10& a, const HandshakeV10& b) {
  return a.protocol_version == b.protocol_version && a.server_version == b.server_version &&
         a.connection_id == b.connection_id && a.auth_plugin_data == b.auth_plugin_data &&
         a.capabilities == b.capabilities && a.character_set == b.character_set &&
         a.status_flags == b.status_flags && a.mariadb_extended_capabilities == b.mariadb_extended_capabilities &&
         a.auth_plugin_name == b.auth_plugin_name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto h = ParseHandshakeV10(ByteView(data, size));
  if (!h) {
    const ErrorCode code = h.error().code();
    FUZZ_CHECK(code == ErrorCode::kIncomplete || code == ErrorCode::kMalformed ||
               code == ErrorCode::kUnsupported || code == ErrorCode::kServer);
    return 0;
  }
  FUZZ_CHECK(h->protocol_version == 10);
  FUZZ_CHECK(h->auth_plugin_data.size() >= 8 && h->auth_plugin_data.size() <= size);
  FUZZ_CHECK(h->server_version.size() + h->auth_plugin_name.size() < size);

  Bytes encoded;
  WriteHandshakeV10(*h, encoded);
  auto again = ParseHandshakeV10(encoded);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(Same(*h, *again));
  return 0;
}
