#include "protocol/frame.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cutover::protocol {
namespace {

// Captured from MariaDB 10.11.19 on 127.0.0.1 with a Python raw-socket client
// (CLIENT_DEPRECATE_EOF on): the full server response to COM_QUERY "SELECT 1",
// four packets with sequence ids 1..4, the last the 0xFE-headed OK.
const Bytes kSelectOneResponse = FromHex(
    "01000001 01"
    "18000002 03646566000000013100000c3f0001000000038100000000"
    "02000003 0131"
    "07000004 fe000002000000");

constexpr size_t kNoLimit = size_t(1) << 30;

TEST(FrameTest, HeaderRoundTrip) {
  uint8_t buf[kFrameHeaderSize];
  WriteFrameHeader({0xabcdef, 7}, buf);
  EXPECT_EQ(HexString(buf), "efcdab07");
  const FrameHeader h = ParseFrameHeader(buf);
  EXPECT_EQ(h.payload_length, 0xabcdefu);
  EXPECT_EQ(h.sequence_id, 7);
}

TEST(FrameTest, DecodesCapturedResponse) {
  const std::vector<std::pair<uint8_t, std::string>> expected = {
      {1, "01"}, {2, "03646566000000013100000c3f0001000000038100000000"}, {3, "0131"}, {4, "fe000002000000"}};
  ByteView in = kSelectOneResponse;
  for (const auto& [seq, hex] : expected) {
    size_t consumed = 0;
    auto p = DecodePacket(in, kNoLimit, &consumed);
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(p->sequence_id, seq);
    EXPECT_EQ(p->last_sequence_id, seq);
    EXPECT_EQ(HexString(p->payload), hex);
    in = in.subspan(consumed);
  }
  EXPECT_TRUE(in.empty());
}

TEST(FrameTest, EveryTruncatedPrefixIsIncomplete) {
  ByteView in = kSelectOneResponse;
  while (!in.empty()) {
    size_t packet_size = 0;
    ASSERT_TRUE(DecodePacket(in, kNoLimit, &packet_size));
    for (size_t n = 0; n < packet_size; ++n) {
      size_t consumed = 0;
      auto p = DecodePacket(in.first(n), kNoLimit, &consumed);
      ASSERT_FALSE(p) << n;
      EXPECT_EQ(p.error().code(), ErrorCode::kIncomplete);
    }
    in = in.subspan(packet_size);
  }
}

TEST(FrameTest, EncodeSmallPacketMatchesCapture) {
  Bytes out;
  uint8_t seq = 2;
  EncodePacket(FromHex("03646566000000013100000c3f0001000000038100000000"), &seq, out);
  EXPECT_EQ(seq, 3);
  EXPECT_EQ(HexString(out), HexString(ByteView(kSelectOneResponse).subspan(5, 28)));
}

TEST(FrameTest, EmptyPayloadIsOneEmptyFrame) {
  Bytes out;
  uint8_t seq = 0;
  EncodePacket({}, &seq, out);
  EXPECT_EQ(HexString(out), "00000000");
  size_t consumed = 0;
  auto p = DecodePacket(out, kNoLimit, &consumed);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->payload.empty());
  EXPECT_EQ(consumed, 4u);
}

// Payload sizes around the 0xFFFFFF split, with the frames each must produce.
struct SplitCase {
  const char* name;
  size_t size;
  size_t frames;
};

class FrameSplitTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(FrameSplitTest, EncodeSplitsAndDecodeJoins) {
  const SplitCase& c = GetParam();
  Bytes payload(c.size);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i * 7 + 3);
  Bytes wire;
  uint8_t seq = 254;  // so that the ids wrap through 255 -> 0
  EncodePacket(payload, &seq, wire);
  EXPECT_EQ(wire.size(), c.size + c.frames * kFrameHeaderSize);
  EXPECT_EQ(seq, uint8_t(254 + c.frames));

  wire.push_back(0xaa);  // a following packet's first byte must not be consumed
  size_t consumed = 0;
  auto p = DecodePacket(wire, kNoLimit, &consumed);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(consumed, wire.size() - 1);
  EXPECT_EQ(p->sequence_id, 254);
  EXPECT_EQ(p->last_sequence_id, uint8_t(254 + c.frames - 1));
  EXPECT_TRUE(p->payload == payload);

  // Cut in the headers, at frame boundaries and just before the end.
  const size_t full = wire.size() - 1;
  for (size_t n : {size_t(0), size_t(3), size_t(4), size_t(5), size_t(kMaxFramePayload + 4),
                   size_t(kMaxFramePayload + 7), full - 1}) {
    if (n >= full) continue;
    auto cut = DecodePacket(ByteView(wire).first(n), kNoLimit, &consumed);
    ASSERT_FALSE(cut) << n;
    EXPECT_EQ(cut.error().code(), ErrorCode::kIncomplete) << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, FrameSplitTest,
                         ::testing::Values(SplitCase{"JustBelow", kMaxFramePayload - 1, 1},
                                           SplitCase{"Exactly", kMaxFramePayload, 2},
                                           SplitCase{"JustAbove", kMaxFramePayload + 1, 2},
                                           SplitCase{"TwiceExactly", 2 * size_t(kMaxFramePayload), 3}),
                         [](const auto& info) { return info.param.name; });

TEST(FrameTest, ExactlyFullFrameEndsWithEmptyFrame) {
  Bytes payload(kMaxFramePayload, 'x');
  Bytes wire;
  uint8_t seq = 0;
  EncodePacket(payload, &seq, wire);
  ASSERT_EQ(wire.size(), kMaxFramePayload + 8);
  EXPECT_EQ(HexString(ByteView(wire).first(4)), "ffffff00");
  EXPECT_EQ(HexString(ByteView(wire).last(4)), "00000001");
  // Without the empty frame the packet is not finished.
  size_t consumed = 0;
  auto p = DecodePacket(ByteView(wire).first(wire.size() - 4), kNoLimit, &consumed);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kIncomplete);
}

TEST(FrameTest, MaxPayloadIsEnforcedBeforeThePayloadArrives) {
  size_t consumed = 0;
  auto p = DecodePacket(FromHex("e8030000"), 999, &consumed);  // announces 1000 bytes
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kMalformed);

  auto at_limit = DecodePacket(kSelectOneResponse, 1, &consumed);
  ASSERT_TRUE(at_limit);

  // A split packet counts all of its frames.
  Bytes wire;
  uint8_t seq = 0;
  EncodePacket(Bytes(kMaxFramePayload + 10), &seq, wire);
  auto too_big = DecodePacket(wire, kMaxFramePayload + 9, &consumed);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code(), ErrorCode::kMalformed);
  EXPECT_TRUE(DecodePacket(wire, kMaxFramePayload + 10, &consumed));
}

TEST(FrameTest, ContinuationWithWrongSequenceIsMalformed) {
  Bytes wire;
  uint8_t seq = 0;
  EncodePacket(Bytes(kMaxFramePayload + 1), &seq, wire);
  wire[kFrameHeaderSize + kMaxFramePayload + 3] = 5;  // second frame's id should be 1
  size_t consumed = 0;
  auto p = DecodePacket(wire, kNoLimit, &consumed);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace cutover::protocol
