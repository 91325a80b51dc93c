// ParseHandshakeV10 (the server greeting) on arbitrary payloads, and
// parse(write(parse(x))) == parse(x).
#include "fuzz_util.h"
#include "protocol/handshake.h"

using namespace cutover;
using namespace cutover::protocol;

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
  FUZZ_CHECK(*h == *again);
  return 0;
}
