#include "proxy/stream.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <asio/experimental/as_tuple.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <openssl/x509v3.h>

namespace cutover::proxy {
namespace {

inline constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// OpenSSL's reason for a failed handshake, with the certificate check's
// verdict when that is what failed.
Error HandshakeError(const asio::error_code& ec, SSL* ssl, std::string_view peer) {
  std::string reason = ec.message();
  if (ssl) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) reason = fmt::format("certificate verify failed: {}", X509_verify_cert_error_string(verify));
  }
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) reason = "closed the connection";
  return Error::Io(fmt::format("{}: TLS handshake failed: {}", peer, reason));
}

constexpr size_t kCompressedRead = 16 * 1024;
constexpr size_t kKeptPlainCapacity = 1024 * 1024;

// For the log: the stream does not know its peer's role.
std::string Endpoint(const tcp::socket& socket) {
  asio::error_code ec;
  const tcp::endpoint endpoint = socket.remote_endpoint(ec);
  if (ec) return "compressed connection";
  return fmt::format("compressed connection from {}:{}", endpoint.address().to_string(), endpoint.port());
}

class CompressionErrors : public std::error_category {
 public:
  const char* name() const noexcept override { return "compressed protocol"; }
  std::string message(int) const override { return "malformed compressed frame"; }
};

}  // namespace

const std::error_category& CompressionErrorCategory() {
  static const CompressionErrors category;
  return category;
}

asio::awaitable<Status> Stream::AcceptTls(std::shared_ptr<asio::ssl::context> context, std::string_view peer) {
  context_ = std::move(context);
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *context_);
  plain_ = false;
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kNoThrow);
  if (ec) co_return Fail(HandshakeError(ec, nullptr, peer));
  co_return Status{};
}

asio::awaitable<Status> Stream::ConnectTls(std::shared_ptr<asio::ssl::context> context, TlsServerName name,
                                           std::string_view peer) {
  context_ = std::move(context);
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *context_);
  plain_ = false;
  SSL* ssl = tls_->native_handle();
  asio::error_code not_ip;
  (void)asio::ip::make_address(name.host, not_ip);
  const bool ip = !not_ip;
  if (!ip) SSL_set_tlsext_host_name(ssl, name.host.c_str());
  if (name.verify) {
    tls_->set_verify_mode(asio::ssl::verify_peer);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.host.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, name.host.c_str(), 0);
    if (set != 1) co_return Fail(Error::Config(fmt::format("{}: cannot check certificates for '{}'", peer, name.host)));
  } else {
    tls_->set_verify_mode(asio::ssl::verify_none);
  }
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (ec) co_return Fail(HandshakeError(ec, name.verify ? ssl : nullptr, peer));
  co_return Status{};
}

void Stream::StartCompression() {
  compression_ = std::make_unique<Compression>();
  plain_ = false;
}

// Not coroutines: each returns the awaitable of the operation itself, so the
// branch adds no coroutine frame to a read or a write.
asio::awaitable<std::tuple<asio::error_code, size_t>> Stream::ReadSome(asio::mutable_buffer buffer) {
  if (plain_) [[likely]] return socket_.async_read_some(buffer, kNoThrow);
  if (compression_) return ReadInflated(buffer);
  return ReadBelowCompression(buffer);
}

asio::awaitable<std::tuple<asio::error_code, size_t>> Stream::Write(asio::const_buffer buffer) {
  if (plain_) [[likely]] return asio::async_write(socket_, buffer, kNoThrow);
  if (compression_) return WriteDeflated(buffer);
  return WriteBelowCompression(buffer);
}

size_t Stream::WriteNow(ByteView data) {
  if (!plain_) return 0;
  const ssize_t n = ::send(socket_.native_handle(), data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

asio::awaitable<std::tuple<asio::error_code, size_t>> Stream::ReadBelowCompression(asio::mutable_buffer buffer) {
  if (!tls_) return socket_.async_read_some(buffer, kNoThrow);
  return tls_->async_read_some(buffer, kNoThrow);
}

asio::awaitable<std::tuple<asio::error_code, size_t>> Stream::WriteBelowCompression(asio::const_buffer buffer) {
  if (!tls_) return asio::async_write(socket_, buffer, kNoThrow);
  return asio::async_write(*tls_, buffer, kNoThrow);
}

// Hands out decoded bytes, reading and decoding whole frames when none are left.
asio::awaitable<std::tuple<asio::error_code, size_t>> Stream::ReadInflated(asio::mutable_buffer buffer) {
  Compression& c = *compression_;
  for (;;) {
    if (c.plain_read < c.plain.size()) {
      const size_t n = std::min(buffer.size(), c.plain.size() - c.plain_read);
      std::memcpy(buffer.data(), c.plain.data() + c.plain_read, n);
      c.plain_read += n;
      if (c.plain_read == c.plain.size()) {
        c.plain_read = 0;
        c.plain.clear();
        if (c.plain.capacity() > kKeptPlainCapacity) c.plain.shrink_to_fit();
      }
      co_return std::tuple(asio::error_code(), n);
    }
    auto used = c.codec.Decode(c.raw.readable(), c.plain);
    if (!used) {
      spdlog::debug("{}: {}", Endpoint(socket_), used.error().message());
      co_return std::tuple(asio::error_code(kMalformedCompressedFrame, CompressionErrorCategory()), size_t(0));
    }
    c.raw.Consume(*used);
    if (!c.plain.empty()) continue;
    c.raw.ShrinkIfLarge();
    auto space = c.raw.PrepareWrite(kCompressedRead);
    const asio::mutable_buffer into(space.data(), space.size());
    auto [ec, n] = co_await ReadBelowCompression(into);
    if (ec) co_return std::tuple(ec, size_t(0));
    c.raw.Commit(n);
  }
}

asio::awaitable<std::tuple<asio::error_code, size_t>> Stream::WriteDeflated(asio::const_buffer buffer) {
  Compression& c = *compression_;
  c.out.clear();
  c.codec.Encode(ByteView(static_cast<const uint8_t*>(buffer.data()), buffer.size()), c.out);
  const asio::const_buffer frames(c.out.data(), c.out.size());
  auto [ec, n] = co_await WriteBelowCompression(frames);
  if (c.out.capacity() > kKeptPlainCapacity) Bytes().swap(c.out);
  co_return std::tuple(ec, ec ? size_t(0) : buffer.size());
}

bool Stream::IdleAndOpen() {
  if (compression_ && (!compression_->raw.empty() || !compression_->plain.empty())) return false;
  if (tls_ && SSL_pending(tls_->native_handle()) > 0) return false;
  char byte;
  const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void Stream::Close() {
  asio::error_code ignored;
  socket_.close(ignored);
}

}  // namespace cutover::proxy
