// One connection from the proxy to a database server, logged in as a client's
// user, with session tracking switched on so the proxy can follow the
// session's state. The client session forwards bytes over socket() and
// follows responses with tracker(); the proxy's own commands (setup, state
// restore, status refresh) go through RunCommand().
// Thread-safety: none; lives on its session's event loop.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/handshake_response.h"
#include "protocol/response_tracker.h"
#include "protocol/statement.h"
#include "proxy/asio_util.h"
#include "proxy/proxy_config.h"
#include "proxy/tls_context.h"

namespace cutover::proxy {

// Capabilities the proxy can forward transparently. Not here: SSL and
// compression (the proxy terminates them towards clients), query attributes and
// optional metadata (it does not parse them); of MariaDB's extensions,
// COM_MULTI (obsolete), bulk unit results (11.5+) and the metadata cache (the
// response tracker does not follow its "metadata follows" byte).
inline constexpr protocol::Capabilities kForwardableCapabilities = [] {
  using namespace protocol::capability;
  return kLongPassword | kFoundRows | kLongFlag | kConnectWithDb | kNoSchema | kOdbc | kLocalFiles |
         kIgnoreSpace | kProtocol41 | kInteractive | kIgnoreSigpipe | kTransactions | kReserved |
         kSecureConnection | kMultiStatements | kMultiResults | kPsMultiResults | kPluginAuth |
         kConnectAttrs | kPluginAuthLenencData | kSessionTrack | kDeprecateEof | kMariaDbProgress |
         kMariaDbStmtBulkOperations | kMariaDbExtendedMetadata | kMariaDbCacheMetadata;
}();

// What the proxy's greeting offers clients when the primary's greeting had
// `backend` (0: unknown): the forwardable capabilities the server has.
// CLIENT_MYSQL is cleared, so that MariaDB clients send their extended
// capabilities, only when the server offers some the proxy carries.
inline protocol::Capabilities GreetingCapabilities(protocol::Capabilities backend) {
  using namespace protocol::capability;
  if (backend == 0) return kForwardableCapabilities & kLowHalf;
  const protocol::Capabilities caps = kForwardableCapabilities & (backend | kLongPassword);
  return (caps & kMariaDbExtended) ? caps & ~kLongPassword : caps;
}

struct BackendLogin {
  HostPort address;
  std::string user;
  std::optional<protocol::Sha1Digest> stage1;  // nullopt: the user has no password
  std::string database;
  uint8_t character_set = 0;
  protocol::Capabilities client_capabilities = 0;  // what the client negotiated with the proxy
  std::vector<std::pair<std::string, std::string>> attributes;
  std::chrono::milliseconds timeout{5000};
  BackendTls tls;  // no context: plaintext
  // The password itself, when the config has it (it lives as long as the
  // proxy): servers that ask for client_ed25519 need it.
  const std::string* password = nullptr;
};

// The greeting of a server, kept so the proxy can greet clients alike.
struct BackendGreeting {
  std::string server_version;
  protocol::Capabilities capabilities = 0;
  uint8_t character_set = 0;
};

class BackendConnection {
 public:
  // Connects, logs in and switches on session tracking. A server's refusal
  // (wrong password, unknown database) is kServer with the server's errno.
  static awaitable<Result<std::unique_ptr<BackendConnection>>> Open(const BackendLogin& login);
  // Reads a server's greeting without logging in.
  // `address` is taken by value, as coroutines here take their arguments: a
  // caller may co_spawn Probe with a temporary that is gone before it runs.
  static awaitable<Result<BackendGreeting>> Probe(HostPort address, std::chrono::milliseconds timeout);

  Stream& stream() { return stream_; }
  IoBuffer& buffer() { return buffer_; }
  protocol::ResponseTracker& tracker() { return tracker_; }
  const HostPort& address() const { return address_; }
  const std::string& peer() const { return peer_; }
  protocol::Capabilities capabilities() const { return capabilities_; }
  uint32_t connection_id() const { return connection_id_; }
  // Status flags of the latest complete response.
  uint16_t status_flags() const { return tracker_.status_flags(); }

  // Sends one command the proxy itself needs and consumes the whole response.
  // A server ERR is returned as kServer. REQUIRES: no response is pending.
  awaitable<Status> RunCommand(ByteView payload);
  // Reads and consumes the rest of the response the tracker follows, without
  // forwarding it. Server ERRs are left in tracker().error(). REQUIRES: the
  // tracker was started, and the bytes it consumed so far are gone from buffer().
  awaitable<Status> DrainResponse();
  awaitable<Status> Query(std::string_view sql);
  // A query whose answer is one column: the first row's value, nullopt for
  // NULL or no row.
  awaitable<Result<std::optional<std::string>>> QueryValue(std::string_view sql);
  awaitable<Result<protocol::StmtPrepareOk>> Prepare(std::string_view sql);
  awaitable<Status> Ping();
  // Switches on the session tracking the proxy follows state with (again,
  // after COM_RESET_CONNECTION).
  awaitable<Status> EnableTracking();
  // COM_SET_OPTION: multi-statements on or off.
  awaitable<Status> SetMultiStatements(bool on);

 private:
  BackendConnection(tcp::socket socket, HostPort address);
  awaitable<Status> Login(const BackendLogin& login);
  awaitable<Status> FinishAuth(const BackendLogin& login, uint8_t seq);
  awaitable<Status> StartTls(const BackendTls& tls, protocol::Capabilities server_capabilities,
                             protocol::HandshakeResponse41& response, uint8_t seq);
  // The next packet of the answer to the proxy's own command; progress reports are skipped.
  awaitable<Result<protocol::Packet>> ReadReply(size_t max_payload);

  Stream stream_;
  HostPort address_;
  std::string peer_;  // "backend 127.0.0.1:3306", for errors
  IoBuffer buffer_{16 * 1024};
  protocol::Capabilities capabilities_ = 0;
  protocol::ResponseTracker tracker_{0};
  uint32_t connection_id_ = 0;
};

}  // namespace cutover::proxy
