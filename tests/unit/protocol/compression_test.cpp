#include "protocol/compression.h"

#include <gtest/gtest.h>

#include <random>

#include "protocol/frame.h"
#include "test_util.h"

namespace cutover::protocol {
namespace {

// COM_QUERY "SELECT 'a...a'" (60 a's), sequence 0: 74 bytes with its header.
const Bytes kQuery = [] {
  Bytes q = FromHex("46000000 03");
  const std::string sql = "SELECT '" + std::string(60, 'a') + "'";
  q.insert(q.end(), sql.begin(), sql.end());
  return q;
}();
// kQuery in one compressed frame as Connector/C sends it (zlib level 6, by
// Python's zlib, the same library): length 25, compressed seq 0, 74 plain bytes.
const Bytes kQueryFrame = FromHex("190000 00 4a0000 789c73636060600e76f571750e51504fa400a8030067841934");

// One frame of `size` payload bytes (repeating letters) with sequence id `seq`.
Bytes Packet(size_t size, uint8_t seq) {
  Bytes out(kFrameHeaderSize + size);
  WriteFrameHeader({uint32_t(size), seq}, out.data());
  for (size_t i = 0; i < size; ++i) out[kFrameHeaderSize + i] = uint8_t('a' + i % 7);
  return out;
}

struct Frame {
  uint32_t length;
  uint8_t seq;
  uint32_t plain_length;
};

std::vector<Frame> Frames(ByteView in) {
  std::vector<Frame> frames;
  while (!in.empty()) {
    const Frame f{LoadU24(in.data()), in[3], LoadU24(in.data() + 4)};
    frames.push_back(f);
    in = in.subspan(kCompressedHeaderSize + f.length);
  }
  return frames;
}

Bytes DecodeAll(CompressionCodec& codec, ByteView in) {
  Bytes out;
  auto used = codec.Decode(in, out);
  EXPECT_TRUE(used) << used.error().message();
  EXPECT_EQ(used.value_or(0), in.size());
  return out;
}

// `plain` encoded by a new codec; checks that another new codec decodes it back.
Bytes EncodeAndCheck(ByteView plain) {
  CompressionCodec codec;
  Bytes out;
  codec.Encode(plain, out);
  CompressionCodec peer;
  EXPECT_TRUE(DecodeAll(peer, out) == Bytes(plain.begin(), plain.end()));
  return out;
}

TEST(CompressionTest, DecodesConnectorFrame) {
  CompressionCodec codec;
  EXPECT_EQ(DecodeAll(codec, kQueryFrame), kQuery);
}

TEST(CompressionTest, EncodesAtLevelOneFromTheClientsSeqPlusOne) {
  CompressionCodec codec;
  DecodeAll(codec, kQueryFrame);
  Bytes out;
  codec.Encode(kQuery, out);
  EXPECT_EQ(HexString(out), "190000014a0000780173636060600e76f571750e51504fa400a8030067841934");
}

TEST(CompressionTest, StoresUnderFiftyBytesRaw) {
  CompressionCodec codec;
  const Bytes ok = FromHex("07000001 00000002000000");
  Bytes out;
  codec.Encode(ok, out);
  EXPECT_EQ(HexString(out), "0b000000000000" "0700000100000002000000");
  CompressionCodec peer;
  EXPECT_EQ(DecodeAll(peer, out), FromHex("07000000 00000002000000"));  // re-stamped: a new command
}

TEST(CompressionTest, StoresIncompressibleDataRaw) {
  Bytes noise(1000);
  std::mt19937 random(11);
  for (auto& b : noise) b = uint8_t(random());
  Bytes packet;
  uint8_t seq = 0;
  EncodePacket(noise, &seq, packet);
  const auto frames = Frames(EncodeAndCheck(packet));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].length, packet.size());
  EXPECT_EQ(frames[0].plain_length, 0u);
}

TEST(CompressionTest, SeveralPacketsInOneFrame) {
  Bytes plain = Packet(10, 0);
  for (const uint8_t seq : {1, 2, 3}) {
    const Bytes more = Packet(100 * seq, seq);
    plain.insert(plain.end(), more.begin(), more.end());
  }
  const auto frames = Frames(EncodeAndCheck(plain));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].plain_length, plain.size());
  EXPECT_LT(frames[0].length, plain.size());
}

// Connector/C writes sequence 0 on every frame of a compressed command; the
// server behind the proxy wants 0, 1, 2. Here a header is cut across the
// compressed frames too.
TEST(CompressionTest, RestampsAPacketSplitAcrossFrames) {
  const Bytes first = Packet(kMaxFramePayload, 0);   // a full frame: the packet goes on
  const Bytes second = Packet(3, 0);                 // its last frame, with the client's 0
  Bytes client_plain = first;
  client_plain.insert(client_plain.end(), second.begin(), second.end());
  CompressionCodec client;
  Bytes wire;
  client.Encode(ByteView(client_plain).first(first.size() + 2), wire);
  client.Encode(ByteView(client_plain).subspan(first.size() + 2), wire);
  ASSERT_EQ(Frames(wire).size(), 3u);  // 0xffffff bytes; the first frame's end and half a header; the rest

  CompressionCodec proxy;
  Bytes plain;
  for (size_t cut : {size_t(5), size_t(1000), wire.size()}) {
    // Fed in pieces: whole frames only are decoded, the rest waits.
    auto used = proxy.Decode(ByteView(wire).first(std::min(cut, wire.size())), plain);
    ASSERT_TRUE(used) << used.error().message();
    wire.erase(wire.begin(), wire.begin() + *used);
  }
  EXPECT_TRUE(wire.empty());
  ASSERT_EQ(plain.size(), client_plain.size());
  EXPECT_EQ(plain[3], 0);
  EXPECT_EQ(plain[first.size() + 3], 1);
  EXPECT_TRUE(std::equal(plain.begin() + first.size() + 4, plain.end(), second.begin() + 4));
}

// LOCAL INFILE: the client's data packets follow the server's request (seq 1),
// whatever Connector/C numbered them.
TEST(CompressionTest, ClientPacketsContinueAfterTheProxys) {
  CompressionCodec proxy;
  DecodeAll(proxy, kQueryFrame);
  Bytes out;
  proxy.Encode(FromHex("0b000001 fb2f746d702f612e637376"), out);  // LOCAL INFILE request
  EXPECT_EQ(Frames(out)[0].seq, 1);

  // The client's frame is numbered on from the proxy's; the packets inside keep Connector/C's 0.
  Bytes data = Packet(3, 0);
  const Bytes empty = Packet(0, 0);
  data.insert(data.end(), empty.begin(), empty.end());
  CompressionCodec client;
  Bytes wire;
  client.Encode(data, wire);
  wire[3] = 2;
  const Bytes plain = DecodeAll(proxy, wire);
  ASSERT_EQ(plain.size(), 11u);
  EXPECT_EQ(plain[3], 2);
  EXPECT_EQ(plain[7 + 3], 3);
  Bytes ok;
  proxy.Encode(FromHex("07000004 00010002000000"), ok);
  EXPECT_EQ(Frames(ok)[0].seq, 3);  // the client's frame was 2
}

TEST(CompressionTest, SixteenMebibyteEdge) {
  for (const size_t size : {size_t(0xffffff), size_t(0x1000000)}) {
    const auto frames = Frames(EncodeAndCheck(Packet(size - kFrameHeaderSize, 0)));
    ASSERT_EQ(frames.size(), size == 0xffffff ? 1u : 2u) << size;
    EXPECT_EQ(frames[0].plain_length, 0xffffffu);
    EXPECT_EQ(frames[0].seq, 0);
    if (frames.size() == 2) {
      EXPECT_EQ(frames[1].seq, 1);
      EXPECT_EQ(frames[1].plain_length, 0u);  // one byte: raw
      EXPECT_EQ(frames[1].length, 1u);
    }
  }
}

TEST(CompressionTest, SequenceWraps) {
  CompressionCodec codec;
  Bytes frame = kQueryFrame;
  frame[3] = 255;
  DecodeAll(codec, frame);
  Bytes out;
  codec.Encode(FromHex("01000001 00"), out);
  codec.Encode(FromHex("01000002 00"), out);
  const auto frames = Frames(out);
  EXPECT_EQ(frames[0].seq, 0);
  EXPECT_EQ(frames[1].seq, 1);
}

TEST(CompressionTest, IncompleteFramesWait) {
  for (size_t n = 0; n < kQueryFrame.size(); ++n) {
    CompressionCodec codec;
    Bytes out;
    auto used = codec.Decode(ByteView(kQueryFrame).first(n), out);
    ASSERT_TRUE(used) << n;
    EXPECT_EQ(*used, 0u) << n;
    EXPECT_TRUE(out.empty()) << n;
  }
}

TEST(CompressionTest, RejectsBadFrames) {
  const std::vector<std::pair<std::string, Bytes>> cases = {
      {"header says more", FromHex("190000 00 4b0000 789c73636060600e76f571750e51504fa400a8030067841934")},
      {"header says less", FromHex("190000 00 490000 789c73636060600e76f571750e51504fa400a8030067841934")},
      {"garbage", FromHex("0a0000 00 4a0000 00112233445566778899")},
      {"cut zlib stream", FromHex("100000 00 4a0000 789c73636060600e76f571750e51504f")},
      {"bytes after the stream", FromHex("1a0000 00 4a0000 789c73636060600e76f571750e51504fa400a803006784193400")},
  };
  for (const auto& [name, frame] : cases) {
    CompressionCodec codec;
    Bytes out;
    auto used = codec.Decode(frame, out);
    ASSERT_FALSE(used) << name;
    EXPECT_EQ(used.error().code(), ErrorCode::kMalformed) << name;
  }
}

}  // namespace
}  // namespace cutover::protocol
