// ParseChangeUser (COM_CHANGE_USER) under capabilities from the first 4 input
// bytes, and parse(write(parse(x))) == parse(x) under the same capabilities.
#include "fuzz_util.h"
#include "protocol/change_user.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const Capabilities caps = fuzz::CapsFrom(data);
  const ByteView payload(data + 4, size - 4);
  auto c = ParseChangeUser(payload, caps);
  if (!c) {
    const ErrorCode code = c.error().code();
    FUZZ_CHECK(code == ErrorCode::kIncomplete || code == ErrorCode::kMalformed);
    return 0;
  }
  FUZZ_CHECK(payload[0] == uint8_t(Command::kChangeUser));
  FUZZ_CHECK(c->username.size() + c->auth_response.size() + c->database.size() < payload.size());
  if (caps & capability::kSecureConnection) FUZZ_CHECK(c->auth_response.size() <= 0xff);

  Bytes encoded;
  WriteChangeUser(*c, caps, encoded);
  auto again = ParseChangeUser(encoded, caps);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(*c == *again);
  return 0;
}
