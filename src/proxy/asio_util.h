// Asio plumbing shared by the proxy: non-throwing awaitable reads and writes
// over IoBuffer, whole-packet reads for the rare paths, and deadlines.
// Thread-safety: each function runs on the caller's event loop and touches
// only the objects it is given.
//
// Coroutines and g++ 12: its code generation destroys some temporaries of a
// full expression that holds a co_await twice (GET /metrics crashed the proxy
// with a double free). So a co_await stands alone in its statement:
//   co_await F(a);  co_return co_await F(a);  auto x = co_await F(a);
//   if (auto st = co_await F(a); !st) ...
// never inside a braced or aggregate initialiser, an argument list, `?:` or an
// operator, and F's arguments are names, literals or accessor calls: build any
// other value (a string, an Error, a coroutine task) into a named local first.
// Coroutine lambdas with captures are out too. scripts/check-coroutines (run
// by the test suite) enforces the first two rules.
#pragma once

#include <chrono>
#include <memory>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include "common/error.h"
#include "protocol/frame.h"
#include "proxy/io_buffer.h"
#include "proxy/proxy_config.h"
#include "proxy/stream.h"

namespace cutover::proxy {

using asio::awaitable;
using tcp = asio::ip::tcp;
inline constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// Reads until buf holds at least n bytes. `peer` names the other side in errors.
awaitable<Status> ReadAtLeast(Stream& stream, IoBuffer& buf, size_t n, std::string_view peer);
// Reads whatever arrives next (at least one byte).
awaitable<Status> ReadSome(Stream& stream, IoBuffer& buf, std::string_view peer);

// ReadSome in two halves that need no coroutine frame of their own, for the
// proxy's per-command path (each frame is CPU the server and the clients
// need on a shared machine):
//   auto got = co_await ReadSomeOp(stream, buf);
//   if (auto st = Received(buf, got, peer); !st) ...
using ReadResult = std::tuple<asio::error_code, size_t>;
awaitable<ReadResult> ReadSomeOp(Stream& stream, IoBuffer& buf);
// Commits the bytes a ReadSomeOp read, or turns its error into a Status.
Status Received(IoBuffer& buf, const ReadResult& result, std::string_view peer);
// Writes all of `data`: what the socket takes at once without a trip through
// the event loop (Stream::WriteNow), the rest when the socket has room.
awaitable<Status> WriteAll(Stream& stream, ByteView data, std::string_view peer);
// WriteAll's first step for the hot path, with no coroutine: writes what the
// socket takes now and drops it from `data`. True when nothing is left;
// otherwise the caller co_awaits WriteAll(stream, data, peer) for the rest.
bool WriteNow(Stream& stream, ByteView& data);

// Reads one whole logical packet (frames joined) and consumes it from buf.
awaitable<Result<protocol::Packet>> ReadPacket(Stream& stream, IoBuffer& buf, size_t max_payload,
                                               std::string_view peer);
// The same, reading not one byte past the packet's one frame: for a packet
// after which the peer may start TLS, whose first bytes must reach OpenSSL,
// not buf. REQUIRES: buf is empty.
awaitable<Result<protocol::Packet>> ReadPacketExactly(Stream& stream, IoBuffer& buf, size_t max_payload,
                                                      std::string_view peer);
// Frames `payload` starting at sequence id `seq` and writes it.
awaitable<Status> WritePacket(Stream& stream, ByteView payload, uint8_t seq, std::string_view peer);

// Opens a listening socket on `address` (an IP, not a host name); `setting`
// names the configuration key in errors, e.g. "proxy.listen".
[[nodiscard]] Result<std::unique_ptr<tcp::acceptor>> Listen(asio::io_context& context, const HostPort& address,
                                                            std::string_view setting);

// Closes a socket if a deadline passes before Disarm() or destruction, so
// that any pending read or write on it fails. Used for handshakes and logins.
class Deadline {
 public:
  Deadline(tcp::socket& socket, std::chrono::milliseconds timeout);
  ~Deadline() { Disarm(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  void Disarm();
  bool expired() const { return state_->expired; }

 private:
  struct State {
    bool expired = false;   // Did the deadline pass and close the socket?
    bool disarmed = false;  // Was Disarm() called? Then the socket may be gone.
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace cutover::proxy
