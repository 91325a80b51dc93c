// ParseHandshakeResponse41 (the client's login) and IsSslRequest on arbitrary
// payloads, and parse(write(parse(x))) == parse(x). Also the connection
// attributes block on its own.
#include "fuzz_util.h"
#include "protocol/handshake_response.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  const bool ssl_request = IsSslRequest(in);
  FUZZ_CHECK(!ssl_request || size == 32);

  ByteReader attr_reader(in);
  auto attrs = ParseConnectAttributes(attr_reader);
  if (attrs) {
    FUZZ_CHECK(attr_reader.position() <= size);
    Bytes encoded;
    ByteWriter w(encoded);
    WriteConnectAttributes(*attrs, w);
    ByteReader again_reader(encoded);
    auto again = ParseConnectAttributes(again_reader);
    FUZZ_CHECK(again && *again == *attrs && again_reader.empty());
  } else {
    FUZZ_CHECK(attrs.error().code() == ErrorCode::kMalformed || attrs.error().code() == ErrorCode::kIncomplete);
  }

  auto r = ParseHandshakeResponse41(in);
  if (!r) {
    const ErrorCode code = r.error().code();
    FUZZ_CHECK(code == ErrorCode::kIncomplete || code == ErrorCode::kMalformed || code == ErrorCode::kUnsupported);
    return 0;
  }
  FUZZ_CHECK(!ssl_request);  // an SSLRequest is only the fixed part; a login has more
  FUZZ_CHECK(r->capabilities & capability::kProtocol41);
  FUZZ_CHECK(r->username.size() + r->auth_response.size() + r->database.size() + r->auth_plugin_name.size() < size);

  Bytes encoded;
  WriteHandshakeResponse41(*r, encoded);
  auto again = ParseHandshakeResponse41(encoded);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*r == *again);
  return 0;
}
