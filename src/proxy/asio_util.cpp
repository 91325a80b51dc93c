#include "proxy/asio_util.h"

#include <fmt/format.h>

namespace cutover::proxy {
namespace {

constexpr size_t kMinRead = 16 * 1024;

Error SocketError(const asio::error_code& ec, std::string_view peer) {
  if (ec == asio::error::eof) return Error::Io(fmt::format("{} closed the connection", peer));
  return Error::Io(fmt::format("{}: {}", peer, ec.message()));
}

}  // namespace

awaitable<ReadResult> ReadSomeOp(Stream& stream, IoBuffer& buf) {
  auto space = buf.PrepareWrite(kMinRead);
  return stream.ReadSome(asio::mutable_buffer(space.data(), space.size()));
}

Status Received(IoBuffer& buf, const ReadResult& result, std::string_view peer) {
  const auto& [ec, n] = result;
  if (ec) return Fail(SocketError(ec, peer));
  buf.Commit(n);
  return Status{};
}

awaitable<Status> ReadSome(Stream& stream, IoBuffer& buf, std::string_view peer) {
  auto got = co_await ReadSomeOp(stream, buf);
  co_return Received(buf, got, peer);
}

awaitable<Status> ReadAtLeast(Stream& stream, IoBuffer& buf, size_t n, std::string_view peer) {
  while (buf.size() < n) {
    auto space = buf.PrepareWrite(std::max(kMinRead, n - buf.size()));
    const asio::mutable_buffer into(space.data(), space.size());
    auto [ec, got] = co_await stream.ReadSome(into);
    if (ec) co_return Fail(SocketError(ec, peer));
    buf.Commit(got);
  }
  co_return Status{};
}

bool WriteNow(Stream& stream, ByteView& data) {
  data = data.subspan(stream.WriteNow(data));
  return data.empty();
}

awaitable<Status> WriteAll(Stream& stream, ByteView data, std::string_view peer) {
  if (WriteNow(stream, data)) co_return Status{};
  const asio::const_buffer from(data.data(), data.size());
  auto [ec, n] = co_await stream.Write(from);
  if (ec) co_return Fail(SocketError(ec, peer));
  co_return Status{};
}

awaitable<Result<protocol::Packet>> ReadPacket(Stream& stream, IoBuffer& buf, size_t max_payload,
                                               std::string_view peer) {
  for (;;) {
    size_t consumed = 0;
    auto packet = protocol::DecodePacket(buf.readable(), max_payload, &consumed);
    if (packet) {
      buf.Consume(consumed);
      co_return packet;
    }
    if (packet.error().code() != ErrorCode::kIncomplete) co_return Fail(packet.error().WithContext(peer));
    if (auto st = co_await ReadSome(stream, buf, peer); !st) co_return Fail(st.error());
  }
}

awaitable<Result<protocol::Packet>> ReadPacketExactly(Stream& stream, IoBuffer& buf, size_t max_payload,
                                                      std::string_view peer) {
  size_t want = protocol::kFrameHeaderSize;
  for (;;) {
    if (buf.size() >= protocol::kFrameHeaderSize) {
      const protocol::FrameHeader header = protocol::ParseFrameHeader(buf.data());
      if (header.payload_length > max_payload || header.payload_length >= protocol::kMaxFramePayload) {
        co_return Fail(Error::Malformed(fmt::format("{}: login packet of {} bytes", peer, header.payload_length)));
      }
      want = protocol::kFrameHeaderSize + header.payload_length;
      if (buf.size() >= want) break;
    }
    auto space = buf.PrepareWrite(want - buf.size());
    const asio::mutable_buffer into(space.data(), want - buf.size());
    auto [ec, got] = co_await stream.ReadSome(into);
    if (ec) co_return Fail(SocketError(ec, peer));
    buf.Commit(got);
  }
  size_t consumed = 0;
  auto packet = protocol::DecodePacket(buf.readable(), max_payload, &consumed);
  if (!packet) co_return Fail(packet.error().WithContext(peer));
  buf.Consume(consumed);
  co_return packet;
}

awaitable<Status> WritePacket(Stream& stream, ByteView payload, uint8_t seq, std::string_view peer) {
  Bytes out;
  protocol::EncodePacket(payload, &seq, out);
  co_return co_await WriteAll(stream, out, peer);
}

Result<std::unique_ptr<tcp::acceptor>> Listen(asio::io_context& context, const HostPort& address,
                                              std::string_view setting) {
  asio::error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (ec) return Fail(Error::Config(fmt::format("{}: '{}' is not an IP address", setting, address.host)));
  auto acceptor = std::make_unique<tcp::acceptor>(context);
  const tcp::endpoint endpoint(ip, address.port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(Error::Io(fmt::format("{}: cannot listen on {}: {}; is another process listening there?", setting,
                                      address.ToString(), ec.message())));
  }
  return acceptor;
}

Deadline::Deadline(tcp::socket& socket, std::chrono::milliseconds timeout) : timer_(socket.get_executor()) {
  timer_.expires_after(timeout);
  // The handler may run after this object and the socket are gone; it touches
  // the socket only while not disarmed, and the destructor disarms.
  timer_.async_wait([&socket, state = state_](const asio::error_code& ec) {
    if (ec || state->disarmed) return;
    state->expired = true;
    asio::error_code ignored;
    socket.close(ignored);
  });
}

void Deadline::Disarm() {
  state_->disarmed = true;
  timer_.cancel();
}

}  // namespace cutover::proxy
