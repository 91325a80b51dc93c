#include "proxy/backend_connection.h"

#include <fmt/format.h>

#include "protocol/ed25519_auth.h"
#include "protocol/err_packet.h"
#include "protocol/handshake_response.h"
#include "protocol/ok_packet.h"

namespace cutover::proxy {
namespace {

using namespace protocol;

// Session tracking lets the proxy follow schema and variable changes so that
// a session can be rebuilt elsewhere.
constexpr std::string_view kTrackingSetup =
    "SET SESSION session_track_schema = 1, session_track_state_change = 1, "
    "session_track_system_variables = '*'";

awaitable<Status> ConnectSocket(tcp::socket& socket, const HostPort& address, std::string_view peer) {
  asio::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    tcp::resolver resolver(socket.get_executor());
    auto [rec, results] = co_await resolver.async_resolve(address.host, std::to_string(address.port), kNoThrow);
    if (rec || results.empty()) co_return Fail(Error::Io(fmt::format("{}: cannot resolve host: {}", peer, rec.message())));
    auto [cec, endpoint] = co_await asio::async_connect(socket, results, kNoThrow);
    if (cec) co_return Fail(Error::Io(fmt::format("{}: cannot connect: {}", peer, cec.message())));
  } else {
    auto [cec] = co_await socket.async_connect(tcp::endpoint(ip, address.port), kNoThrow);
    if (cec) co_return Fail(Error::Io(fmt::format("{}: cannot connect: {}", peer, cec.message())));
  }
  socket.set_option(tcp::no_delay(true));
  co_return Status{};
}

Error ServerError(ByteView payload, std::string_view peer) {
  ByteReader in(payload.subspan(1));
  auto err = ParseErrPacket(in);
  if (!err) return Error::Malformed(fmt::format("{}: unreadable error packet", peer));
  return Error::Server(err->error_code, err->sql_state, fmt::format("{}: {}", peer, err->message));
}

}  // namespace

BackendConnection::BackendConnection(tcp::socket socket, HostPort address)
    : stream_(std::move(socket)), address_(std::move(address)), peer_("backend " + address_.ToString()) {}

awaitable<Result<BackendGreeting>> BackendConnection::Probe(HostPort address, std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  Stream stream{tcp::socket(executor)};
  const std::string peer = "backend " + address.ToString();
  Deadline deadline(stream.socket(), timeout);
  if (auto st = co_await ConnectSocket(stream.socket(), address, peer); !st) co_return Fail(st.error());
  IoBuffer buf(4096);
  auto packet = co_await ReadPacket(stream, buf, 64 * 1024, peer);
  if (!packet) co_return Fail(deadline.expired() ? Error::Timeout(peer + ": no greeting in time") : packet.error());
  auto greeting = ParseHandshakeV10(packet->payload);
  if (!greeting) co_return Fail(greeting.error().WithContext(peer));
  co_return BackendGreeting{greeting->server_version, greeting->capabilities, greeting->character_set};
}

awaitable<Result<std::unique_ptr<BackendConnection>>> BackendConnection::Open(const BackendLogin& login) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  std::unique_ptr<BackendConnection> conn(new BackendConnection(std::move(socket), login.address));
  Deadline deadline(conn->stream_.socket(), login.timeout);
  auto st = co_await ConnectSocket(conn->stream_.socket(), login.address, conn->peer_);
  if (st) st = co_await conn->Login(login);
  if (st) st = co_await conn->EnableTracking();
  if (!st) {
    if (deadline.expired()) {
      co_return Fail(Error::Timeout(fmt::format("{}: no login within {} ms", conn->peer_, login.timeout.count())));
    }
    co_return Fail(st.error());
  }
  co_return conn;
}

awaitable<Status> BackendConnection::Login(const BackendLogin& login) {
  auto packet = co_await ReadPacket(stream_, buffer_, 64 * 1024, peer_);
  if (!packet) co_return Fail(packet.error());
  if (!packet->payload.empty() && packet->payload[0] == kErrHeader) co_return Fail(ServerError(packet->payload, peer_));
  auto greeting = ParseHandshakeV10(packet->payload);
  if (!greeting) co_return Fail(greeting.error().WithContext(peer_));
  connection_id_ = greeting->connection_id;

  // Both sides of the proxy must speak the same dialect, since bytes pass
  // through unchanged; session tracking is always on towards the server.
  using namespace capability;
  // A session keeps the MariaDB extensions it negotiated with the proxy when it moves.
  if (const Capabilities missing = login.client_capabilities & kMariaDbExtended & ~greeting->capabilities; missing) {
    co_return Fail(Error::Unsupported(fmt::format(
        "{}: the server lacks MariaDB capabilities 0x{:x} (<< 32) that the client negotiated with the proxy; "
        "reconnect the client to use this server",
        peer_, missing >> 32)));
  }
  Capabilities caps = (login.client_capabilities & kForwardableCapabilities & greeting->capabilities) |
                      kProtocol41 | kSecureConnection | kPluginAuth | (greeting->capabilities & kSessionTrack);
  // CLIENT_MYSQL is cleared only to send the client's extended capabilities.
  if (!(caps & kMariaDbExtended)) caps |= kLongPassword;
  caps &= login.database.empty() ? ~kConnectWithDb : ~Capabilities{0};
  if (!login.database.empty()) caps |= kConnectWithDb;
  if (!(greeting->capabilities & kConnectAttrs)) caps &= ~kConnectAttrs;
  capabilities_ = caps;
  tracker_ = ResponseTracker(caps);

  HandshakeResponse41 response;
  response.capabilities = caps;
  response.max_packet_size = 1u << 30;
  response.character_set = login.character_set ? login.character_set : greeting->character_set;
  uint8_t seq = packet->last_sequence_id + 1;
  if (login.tls.context) {
    if (auto st = co_await StartTls(login.tls, greeting->capabilities, response, seq); !st) co_return st;
    ++seq;
  }
  response.username = login.user;
  const std::string scramble = greeting->auth_plugin_data.substr(0, kScrambleLength);
  if (login.stage1) response.auth_response = NativePasswordToken(*login.stage1, AsBytes(scramble));
  response.database = login.database;
  response.auth_plugin_name = kNativePasswordPlugin;
  response.attributes = login.attributes;
  Bytes payload;
  WriteHandshakeResponse41(response, payload);
  if (auto st = co_await WritePacket(stream_, payload, seq, peer_); !st) co_return st;
  co_return co_await FinishAuth(login, seq + 1);
}

// SSLRequest, then the TLS handshake; the login goes on encrypted.
awaitable<Status> BackendConnection::StartTls(const BackendTls& tls, Capabilities server_capabilities,
                                              HandshakeResponse41& response, uint8_t seq) {
  if (!(server_capabilities & capability::kSsl)) {
    co_return Fail(Error::Config(fmt::format(
        "{} does not offer TLS; configure TLS on the server or set [{}] tls = \"off\" to connect in plaintext", peer_,
        tls.setting)));
  }
  response.capabilities |= capability::kSsl;
  Bytes request;
  WriteSslRequest(response, request);
  if (auto st = co_await WritePacket(stream_, request, seq, peer_); !st) co_return st;
  auto started = co_await stream_.ConnectTls(tls.context, tls.name, peer_);
  if (!started && tls.name.verify && started.error().message().find("certificate verify failed") != std::string::npos) {
    co_return Fail(Error::Config(fmt::format("{}; set [{}] tls_ca to the CA that signed the server's certificate, or "
                                             "tls = \"required\" to encrypt without checking it",
                                             started.error().message(), tls.setting)));
  }
  co_return started;
}

awaitable<Status> BackendConnection::FinishAuth(const BackendLogin& login, uint8_t seq) {
  for (int round = 0; round < 2; ++round) {
    auto reply = co_await ReadPacket(stream_, buffer_, 64 * 1024, peer_);
    if (!reply) co_return Fail(reply.error());
    const Bytes& p = reply->payload;
    if (p.empty()) co_return Fail(Error::Malformed(peer_ + ": empty packet during login"));
    if (p[0] == kOkHeader) co_return Status{};
    if (p[0] == kErrHeader) co_return Fail(ServerError(p, peer_));
    if (p[0] != kEofHeader || round > 0) {
      co_return Fail(Error::Unsupported(fmt::format(
          "{}: user '{}' needs an authentication method other than mysql_native_password and client_ed25519; "
          "cutover logs in to servers with those only",
          peer_, login.user)));
    }
    ByteReader in(ByteView(p).subspan(1));
    auto sw = ParseAuthSwitchRequest(in);
    if (!sw) co_return Fail(sw.error().WithContext(peer_));
    std::string token;
    if (sw->plugin_name == kEd25519Plugin) {
      if (!login.password) {
        co_return Fail(Error::Unsupported(fmt::format(
            "{}: user '{}' logs in to this server with client_ed25519, which needs the password; give it as "
            "password (not password_hash) in [[proxy.users]]",
            peer_, login.user)));
      }
      // The nonce is exactly 32 bytes; the parser took a last 0x00 for a terminator.
      std::string nonce = sw->plugin_data;
      if (nonce.size() == kEd25519NonceLength - 1) nonce.push_back('\0');
      token = Ed25519Sign(*login.password, AsBytes(nonce));
    } else if (sw->plugin_name == kNativePasswordPlugin) {
      if (login.stage1) token = NativePasswordToken(*login.stage1, AsBytes(sw->plugin_data.substr(0, kScrambleLength)));
    } else {
      co_return Fail(Error::Unsupported(fmt::format(
          "{}: user '{}' uses authentication plugin '{}'; cutover logs in to servers with mysql_native_password "
          "or client_ed25519 only",
          peer_, login.user, sw->plugin_name)));
    }
    seq = reply->last_sequence_id + 1;
    const ByteView token_bytes = AsBytes(token);
    if (auto st = co_await WritePacket(stream_, token_bytes, seq, peer_); !st) co_return st;
  }
  co_return Fail(Error::Malformed(peer_ + ": login did not finish"));
}

awaitable<Result<Packet>> BackendConnection::ReadReply(size_t max_payload) {
  for (;;) {
    auto packet = co_await ReadPacket(stream_, buffer_, max_payload, peer_);
    if (!packet || !IsProgressReport(packet->payload)) co_return packet;
  }
}

awaitable<Status> BackendConnection::RunCommand(ByteView payload) {
  if (auto st = co_await WritePacket(stream_, payload, 0, peer_); !st) co_return st;
  tracker_.Start(static_cast<Command>(payload[0]));
  if (auto st = co_await DrainResponse(); !st) co_return st;
  if (const auto& err = tracker_.error()) {
    co_return Fail(Error::Server(err->error_code, err->sql_state, fmt::format("{}: {}", peer_, err->message)));
  }
  co_return Status{};
}

awaitable<Status> BackendConnection::DrainResponse() {
  while (!tracker_.done()) {
    auto n = tracker_.Feed(buffer_.readable());
    if (!n) co_return Fail(n.error().WithContext(peer_));
    buffer_.Consume(*n);
    if (tracker_.done()) break;
    if (tracker_.awaiting_local_infile()) {
      co_return Fail(Error::Unsupported(peer_ + ": unexpected LOCAL INFILE request"));
    }
    if (auto st = co_await ReadSome(stream_, buffer_, peer_); !st) co_return st;
  }
  co_return Status{};
}

awaitable<Status> BackendConnection::Query(std::string_view sql) {
  Bytes payload{static_cast<uint8_t>(Command::kQuery)};
  payload.insert(payload.end(), sql.begin(), sql.end());
  co_return co_await RunCommand(payload);
}

awaitable<Result<std::optional<std::string>>> BackendConnection::QueryValue(std::string_view sql) {
  constexpr size_t kMaxPayload = 1024 * 1024;
  Bytes command{static_cast<uint8_t>(Command::kQuery)};
  command.insert(command.end(), sql.begin(), sql.end());
  if (auto st = co_await WritePacket(stream_, command, 0, peer_); !st) co_return Fail(st.error());
  auto head = co_await ReadReply(kMaxPayload);
  if (!head) co_return Fail(head.error());
  if (!head->payload.empty() && head->payload[0] == kErrHeader) co_return Fail(ServerError(head->payload, peer_));
  ByteReader count_in(head->payload);
  auto columns = count_in.LenencInt();
  if (!columns || *columns != 1 || head->payload[0] == kOkHeader) {
    co_return Fail(Error::Malformed(fmt::format("{}: '{}' did not answer with one column", peer_, sql)));
  }
  // With CACHE_METADATA a flag says whether the definition follows (always,
  // for a text result).
  bool definition_follows = true;
  if (capabilities_ & capability::kMariaDbCacheMetadata) {
    auto follows = count_in.U8();
    definition_follows = !follows || *follows != 0;
  }
  // The column definition, then an EOF unless CLIENT_DEPRECATE_EOF.
  const int from = definition_follows ? 0 : 1;
  const int to = (capabilities_ & capability::kDeprecateEof) ? 1 : 2;
  for (int i = from; i < to; ++i) {
    auto skipped = co_await ReadReply(kMaxPayload);
    if (!skipped) co_return Fail(skipped.error());
  }
  std::optional<std::string> value;
  bool first = true;
  for (;;) {
    auto packet = co_await ReadReply(kMaxPayload);
    if (!packet) co_return Fail(packet.error());
    const Bytes& p = packet->payload;
    if (!p.empty() && p[0] == kErrHeader) co_return Fail(ServerError(p, peer_));
    // EOF, or the OK that ends rows (a row that starts with 0xFE is a value
    // of 16 MiB or more).
    if (!p.empty() && p[0] == kEofHeader && p.size() < kMaxFramePayload) break;
    if (!first || p.empty() || p[0] == kLocalInfileHeader) {     // 0xFB: NULL
      first = false;
      continue;
    }
    first = false;
    ByteReader in(p);
    auto text = in.LenencString();
    if (!text) co_return Fail(text.error().WithContext(peer_));
    value = std::move(*text);
  }
  co_return value;
}

awaitable<Result<StmtPrepareOk>> BackendConnection::Prepare(std::string_view sql) {
  Bytes payload{static_cast<uint8_t>(Command::kStmtPrepare)};
  payload.insert(payload.end(), sql.begin(), sql.end());
  if (auto st = co_await RunCommand(payload); !st) co_return Fail(st.error());
  if (!tracker_.prepare_ok()) co_return Fail(Error::Malformed(peer_ + ": prepare answered without PREPARE_OK"));
  co_return *tracker_.prepare_ok();
}

awaitable<Status> BackendConnection::EnableTracking() {
  co_return co_await Query(kTrackingSetup);
}

awaitable<Status> BackendConnection::SetMultiStatements(bool on) {
  const auto option = on ? SetOption::kMultiStatementsOn : SetOption::kMultiStatementsOff;
  const Bytes payload{static_cast<uint8_t>(Command::kSetOption), static_cast<uint8_t>(option), 0};
  co_return co_await RunCommand(payload);
}

awaitable<Status> BackendConnection::Ping() {
  const uint8_t ping = static_cast<uint8_t>(Command::kPing);
  const ByteView payload(&ping, 1);
  co_return co_await RunCommand(payload);
}

}  // namespace cutover::proxy
