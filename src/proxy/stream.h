// A connection's byte stream: a TCP socket, with TLS layered on it once a
// handshake starts it, and the compressed protocol above that once a client
// that negotiated it has logged in (packets -> compression -> TLS -> TCP).
// The plaintext path costs one untaken branch per read or write; a plaintext
// session carries three null pointers.
//
// TLS starts in place (asio::ssl::stream over a reference to the socket), so
// socket() stays valid for Deadline, options and endpoints before and after.
// Thread-safety: none; lives on its session's event loop. Not movable: the
// TLS layer points at the socket.
#pragma once

#include <memory>
#include <string>
#include <tuple>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include "common/error.h"
#include "protocol/compression.h"
#include "proxy/io_buffer.h"

namespace cutover::proxy {

using tcp = asio::ip::tcp;

// What the proxy checks of a server's certificate when it starts TLS to it.
struct TlsServerName {
  std::string host;     // an IP or a host name; names go out as SNI
  bool verify = false;  // false: encrypt only ("required")
};

class Stream {
 public:
  explicit Stream(tcp::socket socket) : socket_(std::move(socket)) {}
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  tcp::socket& socket() { return socket_; }
  const tcp::socket& socket() const { return socket_; }
  bool tls() const { return tls_ != nullptr; }
  bool compressed() const { return compression_ != nullptr; }

  // The server side of a TLS handshake (the client sent an SSLRequest).
  // `context` stays alive as long as the stream. Errors carry OpenSSL's reason.
  asio::awaitable<Status> AcceptTls(std::shared_ptr<asio::ssl::context> context, std::string_view peer);
  // The client side, towards a server; with `name.verify` the certificate
  // must be valid for name.host and chain to the context's CAs.
  asio::awaitable<Status> ConnectTls(std::shared_ptr<asio::ssl::context> context, TlsServerName name,
                                     std::string_view peer);

  // From now on, reads inflate and writes deflate (zlib). A frame that does
  // not decode fails the read with kMalformedCompressedFrame.
  // REQUIRES: nothing was read past the last plaintext packet.
  void StartCompression();

  asio::awaitable<std::tuple<asio::error_code, size_t>> ReadSome(asio::mutable_buffer buffer);
  asio::awaitable<std::tuple<asio::error_code, size_t>> Write(asio::const_buffer buffer);
  // The proxy's fast path: writes what the socket takes at once, without
  // going through the event loop, and returns how many bytes that was (0 on
  // TLS or compressed streams, when the socket is full, or on an error, which
  // the Write of the rest then reports). One send(2).
  size_t WriteNow(ByteView data);

  // Nothing to read and not closed by the peer: a connection left idle is
  // still usable. One syscall; with TLS, nothing buffered in OpenSSL either.
  bool IdleAndOpen();
  void Close();

 private:
  // The compressed protocol's state: the codec, the raw bytes read and not
  // yet decoded, and decoded bytes not yet handed to a reader.
  struct Compression {
    protocol::CompressionCodec codec;
    IoBuffer raw{16 * 1024};
    Bytes plain;
    size_t plain_read = 0;  // bytes of `plain` handed out
    Bytes out;              // a write's frames, kept to reuse the memory
  };

  asio::awaitable<std::tuple<asio::error_code, size_t>> ReadBelowCompression(asio::mutable_buffer buffer);
  asio::awaitable<std::tuple<asio::error_code, size_t>> WriteBelowCompression(asio::const_buffer buffer);
  asio::awaitable<std::tuple<asio::error_code, size_t>> ReadInflated(asio::mutable_buffer buffer);
  asio::awaitable<std::tuple<asio::error_code, size_t>> WriteDeflated(asio::const_buffer buffer);

  bool plain_ = true;  // neither TLS nor compression: the fast path
  tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> context_;  // outlives tls_, whose SSL object uses it
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::unique_ptr<Compression> compression_;
};

// The error of a read whose compressed frame does not decode.
const std::error_category& CompressionErrorCategory();
inline constexpr int kMalformedCompressedFrame = 1;

}  // namespace cutover::proxy
