// What auth.h parses: the AuthSwitchRequest payload, the "*" + 40 hex digit
// password hash; and the native-password token check on arbitrary tokens.
// Input: the whole of it is the AuthSwitchRequest payload (after 0xFE) and the
// hash text; with at least 40 bytes, bytes [0, 20) are a scramble, [20, 40) a
// client token and the rest a password.
#include <cctype>

#include "fuzz_util.h"
#include "protocol/auth.h"

using namespace cutover;
using namespace cutover::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);

  ByteReader reader(in);
  auto request = ParseAuthSwitchRequest(reader);
  if (request) {
    FUZZ_CHECK(reader.empty());
    FUZZ_CHECK(request->plugin_name.find('\0') == std::string::npos);
    FUZZ_CHECK(request->plugin_name.size() + 1 + request->plugin_data.size() <= size);
    Bytes encoded;
    WriteAuthSwitchRequest(*request, encoded);
    FUZZ_CHECK(!encoded.empty() && encoded[0] == kEofHeader);
    ByteReader again_reader(ByteView(encoded).subspan(1));
    auto again = ParseAuthSwitchRequest(again_reader);
    FUZZ_CHECK(again && again->plugin_name == request->plugin_name && again->plugin_data == request->plugin_data);
  } else {
    FUZZ_CHECK(request.error().code() == ErrorCode::kIncomplete || request.error().code() == ErrorCode::kMalformed);
  }

  const std::string_view text = AsChars(in);
  auto hash = ParseNativePasswordHash(text);
  if (hash) {
    const std::string formatted = FormatNativePasswordHash(*hash);
    FUZZ_CHECK(formatted.size() == text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      FUZZ_CHECK(formatted[i] == std::toupper(static_cast<unsigned char>(text[i])));
    }
  } else {
    FUZZ_CHECK(hash.error().code() == ErrorCode::kMalformed);
  }

  if (size >= 2 * kScrambleLength) {
    const ByteView scramble = in.first(kScrambleLength);
    const ByteView token = in.subspan(kScrambleLength, kScrambleLength);
    const std::string_view password = AsChars(in.subspan(2 * kScrambleLength));
    const Sha1Digest stage1 = NativePasswordStage1(password);
    const Sha1Digest stage2 = NativePasswordStage2(stage1);
    // The right token is accepted and yields stage 1.
    const std::string good = NativePasswordToken(stage1, scramble);
    auto verified = VerifyNativePasswordToken(AsBytes(good), scramble, stage2);
    FUZZ_CHECK(verified && *verified == stage1);
    // Any token that is accepted yields a stage 1 whose SHA1 is stage 2.
    if (auto other = VerifyNativePasswordToken(token, scramble, stage2)) {
      FUZZ_CHECK(NativePasswordStage2(*other) == stage2);
    }
    // A token of any other length is refused.
    FUZZ_CHECK(!VerifyNativePasswordToken(in.subspan(kScrambleLength), scramble, stage2) ||
               size == 2 * kScrambleLength);
  }
  return 0;
}
