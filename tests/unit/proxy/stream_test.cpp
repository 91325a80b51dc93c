// The write fast path of Stream over a real loopback TCP connection: what
// WriteNow takes goes out at once, what it cannot take is left to WriteAll,
// and the bytes arrive whole and in order.
#include "proxy/stream.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>

#include "proxy/asio_util.h"

namespace cutover::proxy {
namespace {

// A connected pair of loopback sockets on one io_context.
struct SocketPair {
  asio::io_context context{1};
  tcp::socket writer{context};
  tcp::socket reader{context};

  SocketPair() {
    tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    writer.connect(acceptor.local_endpoint());
    reader = acceptor.accept();
  }
};

// A coroutine function, not a lambda: see asio_util.h on g++ 12.
awaitable<void> WriteInto(Stream& stream, ByteView data, Status* result) {
  auto st = co_await WriteAll(stream, data, "test peer");
  *result = std::move(st);
}

Bytes Pattern(size_t n) {
  Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(i * 7 + i / 251);
  return out;
}

TEST(StreamTest, WriteNowSendsASmallWriteAtOnce) {
  SocketPair pair;
  Stream stream(std::move(pair.writer));
  const Bytes data = Pattern(100);
  ByteView rest(data);
  EXPECT_TRUE(WriteNow(stream, rest));
  EXPECT_TRUE(rest.empty());
  Bytes got(100);
  asio::read(pair.reader, asio::buffer(got));
  EXPECT_EQ(got, data);
}

TEST(StreamTest, WriteNowTakesWhatFitsAndWriteAllSendsTheRestInOrder) {
  SocketPair pair;
  // Small socket buffers so that the first write cannot take it all.
  pair.writer.set_option(asio::socket_base::send_buffer_size(16 * 1024));
  pair.reader.set_option(asio::socket_base::receive_buffer_size(16 * 1024));
  Stream stream(std::move(pair.writer));
  const Bytes data = Pattern(8 * 1024 * 1024);
  ByteView rest(data);
  ASSERT_FALSE(WriteNow(stream, rest));
  ASSERT_GT(rest.size(), 0u);
  ASSERT_LT(rest.size(), data.size());

  Status written = Fail(Error::Io("not finished"));
  asio::co_spawn(pair.context, WriteInto(stream, rest, &written), asio::detached);
  // Drain the reader without blocking, so that a writer that stops cannot hang the test.
  pair.reader.non_blocking(true);
  Bytes got;
  std::array<uint8_t, 64 * 1024> chunk;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got.size() < data.size() && std::chrono::steady_clock::now() < deadline) {
    pair.context.poll();
    asio::error_code ec;
    const size_t n = pair.reader.read_some(asio::buffer(chunk), ec);
    if (ec == asio::error::would_block) continue;
    ASSERT_FALSE(ec) << ec.message();
    got.insert(got.end(), chunk.begin(), chunk.begin() + n);
  }
  pair.context.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(written) << written.error().message();
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

TEST(StreamTest, WriteNowOnAClosedPeerWritesNothingAndWriteAllReportsTheError) {
  SocketPair pair;
  Stream stream(std::move(pair.writer));
  pair.reader.close();
  const Bytes data = Pattern(64 * 1024);
  // The first send may still succeed (the peer's RST has not come back yet);
  // after it, nothing more goes out and the error reaches WriteAll.
  Status written;
  for (int i = 0; i < 100 && written; ++i) {
    asio::co_spawn(pair.context, WriteInto(stream, data, &written), asio::detached);
    pair.context.run_for(std::chrono::seconds(5));
    pair.context.restart();
  }
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message().find("test peer"), std::string::npos) << written.error().message();
  ByteView rest(data);
  EXPECT_FALSE(WriteNow(stream, rest));
  EXPECT_EQ(rest.size(), data.size());
}

}  // namespace
}  // namespace cutover::proxy
