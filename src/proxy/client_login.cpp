// The client-facing half of a session's login: greeting, authentication
// against the proxy's users, and COM_CHANGE_USER.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "protocol/caching_sha2.h"
#include "protocol/change_user.h"
#include "protocol/ed25519_auth.h"
#include "protocol/err_packet.h"
#include "protocol/handshake.h"
#include "protocol/handshake_response.h"
#include "protocol/ok_packet.h"
#include "proxy/client_session.h"

namespace cutover::proxy {
namespace {

using namespace protocol;

constexpr size_t kMaxLoginPacket = 64 * 1024;
constexpr char kFallbackVersion[] = "5.5.5-10.11.0-MariaDB-cutover";

const std::string* ConfiguredPassword(const ProxyConfig& config, const std::string& user) {
  const ProxyUser* u = config.FindUser(user);
  return u && u->password ? &*u->password : nullptr;
}

std::string ClientHost(const tcp::socket& socket) {
  asio::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  return ec ? "unknown" : endpoint.address().to_string();
}

}  // namespace

awaitable<Status> ClientSession::SendError(uint16_t code, std::string_view sql_state, std::string_view message,
                                           uint8_t seq) {
  Bytes payload;
  WriteErrPacket(ErrPacket{code, std::string(sql_state), std::string(message)}, payload);
  co_return co_await WritePacket(client_, payload, seq, peer_);
}

awaitable<Status> ClientSession::SendOk(uint8_t seq) {
  OkPacket ok;
  ok.status_flags = backend_ ? backend_->status_flags() : status::kAutocommit;
  ok.status_flags &= ~status::kSessionStateChanged;
  Bytes payload;
  WriteOkPacket(ok, client_capabilities_, kOkHeader, payload);
  co_return co_await WritePacket(client_, payload, seq, peer_);
}

// Tells the client why its backend login failed: the server's own error when
// the server refused, error 1105 naming the backend otherwise.
awaitable<Status> ClientSession::SendBackendError(const Error& e, uint8_t seq) {
  if (e.code() == ErrorCode::kServer) co_return co_await SendError(e.server_errno(), e.sql_state(), e.message(), seq);
  const std::string message = "cutover: " + e.message();
  co_return co_await SendError(server_error::kUnknownError, "HY000", message, seq);
}

// Sends one auth packet and returns the client's answer.
awaitable<Result<std::string>> ClientSession::Exchange(ByteView payload, uint8_t* seq) {
  if (auto st = co_await WritePacket(client_, payload, *seq, peer_); !st) co_return Fail(st.error());
  auto reply = co_await ReadPacket(client_, client_buffer_, kMaxLoginPacket, peer_);
  if (!reply) co_return Fail(reply.error());
  *seq = reply->last_sequence_id + 1;
  co_return std::string(AsChars(reply->payload));
}

awaitable<Result<std::optional<Sha1Digest>>> ClientSession::DenyAccess(const std::string& name, bool with_password,
                                                                     uint8_t seq) {
  ++worker_.counters().logins_failed;
  const std::string message = fmt::format("Access denied for user '{}'@'{}' (using password: {})", name,
                                          ClientHost(client_.socket()), with_password ? "YES" : "NO");
  co_await SendError(server_error::kAccessDenied, "28000", message, seq);
  co_return Fail(Error::Precondition(fmt::format("{}: access denied for user '{}'", peer_, name)));
}

// caching_sha2_password after the client's token: fast auth when the proxy
// knows the password and the token proves it (the cleartext stays unknown:
// returns nullopt); full auth otherwise, which returns the cleartext and its
// NUL: sent as is over TLS, RSA-encrypted in plaintext.
awaitable<Result<std::optional<std::string>>> ClientSession::CachingSha2(const ProxyUser* user,
                                                                         const std::string& token, uint8_t* seq) {
  if (user && user->sha2_stage2 && VerifyCachingSha2Token(AsBytes(token), AsBytes(scramble_), *user->sha2_stage2)) {
    const Bytes fast_ok = {kAuthMoreData, kCachingSha2FastAuthOk};
    if (auto st = co_await WritePacket(client_, fast_ok, *seq, peer_); !st) co_return Fail(st.error());
    ++*seq;
    co_return std::optional<std::string>();
  }
  const Bytes full_auth = {kAuthMoreData, kCachingSha2FullAuth};
  auto reply = co_await Exchange(full_auth, seq);
  if (!reply) co_return Fail(reply.error());
  std::string answer = std::move(*reply);
  if (!client_.tls()) {
    const std::shared_ptr<const RsaKey>& key = worker_.shared().rsa_key;
    if (!key) co_return Fail(Error::Unsupported(peer_ + ": caching_sha2_password without an RSA key"));
    if (answer.size() == 1 && uint8_t(answer[0]) == kCachingSha2PublicKeyRequest) {
      Bytes pem = {kAuthMoreData};
      pem.insert(pem.end(), key->public_pem().begin(), key->public_pem().end());
      auto encrypted = co_await Exchange(pem, seq);
      if (!encrypted) co_return Fail(encrypted.error());
      answer = std::move(*encrypted);
    }
    auto plain = key->Decrypt(AsBytes(answer));
    if (!plain) co_return Fail(plain.error().WithContext(peer_));
    answer = XorWithNonce(AsBytes(*plain), AsBytes(scramble_));
  }
  co_return std::optional<std::string>(std::move(answer));
}

awaitable<Result<std::optional<Sha1Digest>>> ClientSession::Authenticate(const std::string& name,
                                                                       std::string_view plugin, std::string token,
                                                                       uint8_t* seq) {
  const ProxyUser* user = worker_.shared().config.FindUser(name);
  const std::string wanted = user ? user->auth_plugin : kNativePasswordPlugin;
  if (wanted == kClearPasswordPlugin && !client_.tls()) {
    // Refused before the client is asked for its password in the clear.
    ++worker_.counters().logins_failed;
    const std::string message = fmt::format(
        "user '{}' logs in with mysql_clear_password, which the proxy accepts over TLS only; connect with TLS", name);
    co_await SendError(server_error::kSecureTransportRequired, "08004", message, *seq);
    co_return Fail(Error::Precondition(fmt::format("{}: mysql_clear_password without TLS for '{}'", peer_, name)));
  }
  const bool native_answer = plugin.empty() || plugin == kNativePasswordPlugin;
  // client_ed25519 always gets its own 32-byte nonce: the greeting's has 20.
  const bool ed25519 = wanted == kEd25519Plugin;
  if (ed25519 || (plugin != wanted && !(native_answer && wanted == kNativePasswordPlugin))) {
    scramble_ = MakeScramble(ed25519 ? kEd25519NonceLength : kScrambleLength);
    Bytes request;
    WriteAuthSwitchRequest(AuthSwitchRequest{wanted, wanted == kClearPasswordPlugin ? "" : scramble_, !ed25519},
                           request);
    auto reply = co_await Exchange(request, seq);
    if (!reply) co_return Fail(reply.error());
    token = std::move(*reply);
  }
  // The password itself, when the exchange gives it.
  std::optional<std::string> password;
  if (wanted == kNativePasswordPlugin) {
    if (user && user->empty_password && token.empty()) co_return std::optional<Sha1Digest>();
    if (user && !user->empty_password && token.size() == kScrambleLength) {
      if (auto stage1 = VerifyNativePasswordToken(AsBytes(token), AsBytes(scramble_), user->stage2)) co_return stage1;
    }
    co_return co_await DenyAccess(name, !token.empty(), *seq);
  }
  if (ed25519) {
    // The proxy knows the password (the config requires it): no cleartext needed.
    if (user && user->ed25519_key && VerifyEd25519Signature(AsBytes(token), AsBytes(scramble_), *user->ed25519_key)) {
      co_return user->BackendStage1();
    }
    co_return co_await DenyAccess(name, !token.empty(), *seq);
  }
  if (wanted == kClearPasswordPlugin) {
    password = token;
  } else {
    if (token.empty()) {
      if (user && user->empty_password) co_return std::optional<Sha1Digest>();
      co_return co_await DenyAccess(name, false, *seq);
    }
    auto sha2 = co_await CachingSha2(user, token, seq);
    if (!sha2) co_return Fail(sha2.error());
    if (!*sha2) co_return user->BackendStage1();  // fast auth: the proxy knows the password
    password = std::move(*sha2);
  }
  // Both plugins send the password with a NUL after it.
  if (!password->empty() && password->back() == '\0') password->pop_back();
  const Sha1Digest stage1 = NativePasswordStage1(*password);
  const bool matches = user && password->empty() == user->empty_password &&
                       CRYPTO_memcmp(NativePasswordStage2(stage1).data(), user->stage2.data(), user->stage2.size()) == 0;
  OPENSSL_cleanse(password->data(), password->size());
  if (!matches) co_return co_await DenyAccess(name, true, *seq);
  if (user->empty_password) co_return std::optional<Sha1Digest>();
  co_return std::optional<Sha1Digest>(stage1);
}

awaitable<Status> ClientSession::Login() {
  const ProxyConfig& config = worker_.shared().config;
  Deadline deadline(client_.socket(), config.handshake_timeout);
  const BackendGreeting backend = worker_.shared().Greeting();
  scramble_ = MakeScramble();
  HandshakeV10 greeting;
  greeting.server_version = backend.server_version.empty() ? kFallbackVersion : backend.server_version;
  greeting.connection_id = id_;
  greeting.auth_plugin_data = scramble_;
  greeting.capabilities = GreetingCapabilities(backend.capabilities);
  greeting.character_set = backend.character_set ? backend.character_set : 45;  // utf8mb4_general_ci
  greeting.status_flags = status::kAutocommit;
  greeting.auth_plugin_name = kNativePasswordPlugin;
  const std::shared_ptr<const TlsContexts> tls = worker_.shared().Tls();
  if (tls->clients) greeting.capabilities |= capability::kSsl;
  greeting.capabilities |= capability::kCompress;  // the proxy inflates; servers see plaintext
  Bytes out;
  WriteHandshakeV10(greeting, out);
  if (auto st = co_await WritePacket(client_, out, 0, peer_); !st) co_return st;

  // Not a byte further than the first packet: after an SSLRequest the
  // client's TLS handshake follows at once, and it is OpenSSL's to read.
  auto first = co_await ReadPacketExactly(client_, client_buffer_, kMaxLoginPacket, peer_);
  if (!first) {
    if (deadline.expired()) co_return Fail(Error::Timeout(peer_ + ": no login within the handshake timeout"));
    co_return Fail(first.error());
  }
  Result<Packet> packet = std::move(first);
  if (IsSslRequest(packet->payload)) {
    if (!tls->clients) {
      const uint8_t seq = packet->last_sequence_id + 1;
      co_await SendError(server_error::kHandshakeError, "08S01", "cutover proxy: TLS is not configured", seq);
      co_return Fail(Error::Unsupported(peer_ + ": asked for TLS, which is not configured"));
    }
    if (auto st = co_await client_.AcceptTls(tls->clients, peer_); !st) {
      ++worker_.counters().tls_handshakes_failed;
      if (deadline.expired()) co_return Fail(Error::Timeout(peer_ + ": no TLS handshake within the handshake timeout"));
      co_return Fail(st.error());
    }
    auto response = co_await ReadPacket(client_, client_buffer_, kMaxLoginPacket, peer_);
    if (!response) {
      if (deadline.expired()) co_return Fail(Error::Timeout(peer_ + ": no login within the handshake timeout"));
      co_return Fail(response.error());
    }
    packet = std::move(response);
    ++worker_.counters().tls_sessions;
  } else if (config.tls.required) {
    const uint8_t seq = packet->last_sequence_id + 1;
    co_await SendError(server_error::kSecureTransportRequired, "08004",
                       "Connections using insecure transport are prohibited while --require_secure_transport=ON.",
                       seq);
    ++worker_.counters().logins_failed;
    co_return Fail(Error::Precondition(peer_ + ": refused a plaintext login (proxy.require_tls)"));
  }
  uint8_t seq = packet->last_sequence_id + 1;
  auto response = ParseHandshakeResponse41(packet->payload);
  if (!response) {
    co_await SendError(server_error::kHandshakeError, "08S01", "Bad handshake", seq);
    co_return Fail(response.error().WithContext(peer_));
  }
  client_capabilities_ = response->capabilities & greeting.capabilities;
  character_set_ = response->character_set;
  attributes_ = response->attributes;
  user_ = response->username;

  auto stage1 = co_await Authenticate(user_, response->auth_plugin_name, response->auth_response, &seq);
  if (!stage1) co_return Fail(stage1.error());
  stage1_ = *stage1;
  password_ = ConfiguredPassword(worker_.shared().config, user_);
  deadline.Disarm();
  if (auto st = co_await ConnectBackend(response->database); !st) {
    co_await SendBackendError(st.error(), seq);
    co_return st;
  }
  auto ok = co_await SendOk(seq);
  // Compression starts after the OK, which goes out uncompressed.
  if (ok && (client_capabilities_ & capability::kCompress)) {
    client_.StartCompression();
    ++worker_.counters().compressed_sessions;
  }
  co_return ok;
}

// Waits out a pause, then logs in to the current primary as the client's user.
awaitable<Status> ClientSession::ConnectBackend(std::string database) {
  if (auto st = co_await WaitAtGate(Phase::kLoginHeld); !st) co_return st;
  phase_ = Phase::kConnecting;
  const HostPort primary = worker_.shared().Primary();
  BackendLogin login{primary,          user_,       stage1_,
                     std::move(database), character_set_, client_capabilities_,
                     attributes_,      worker_.shared().config.connect_timeout, FindBackendTls(*worker_.shared().Tls(), primary),
                     password_};
  auto backend = co_await BackendConnection::Open(login);
  if (!backend) {
    ++worker_.counters().backend_errors;
    co_return Fail(backend.error());
  }
  backend_ = std::move(*backend);
  state_ = SessionState();
  state_.set_schema(login.database);
  state_.set_multi_statements(client_capabilities_ & capability::kMultiStatements);
  status_flags_ = backend_->status_flags();
  in_transaction_ = false;
  co_return Status{};
}

// COM_CHANGE_USER resets the whole session, so it is served by a new backend
// connection logged in as the new user rather than by relaying the exchange.
awaitable<Status> ClientSession::ChangeUser() {
  auto request = ParseChangeUser(client_buffer_.readable().subspan(protocol::kFrameHeaderSize, packet_size_ - kFrameHeaderSize),
                                 client_capabilities_);
  client_buffer_.Consume(packet_size_);
  uint8_t seq = 1;
  if (!request) {
    co_await SendError(server_error::kHandshakeError, "08S01", "Bad COM_CHANGE_USER packet", seq);
    co_return Fail(request.error().WithContext(peer_));
  }
  auto stage1 = co_await Authenticate(request->username, request->auth_plugin_name, request->auth_response, &seq);
  if (!stage1) co_return Fail(stage1.error());
  user_ = request->username;
  stage1_ = *stage1;
  password_ = ConfiguredPassword(worker_.shared().config, user_);
  if (request->character_set) character_set_ = uint8_t(request->character_set);
  attributes_ = request->attributes;
  // The multi-statement option survives COM_CHANGE_USER on a server.
  const bool multi_statements = state_.multi_statements();
  backend_.reset();
  if (auto st = co_await ConnectBackend(request->database); !st) {
    co_await SendBackendError(st.error(), seq);
    co_return st;
  }
  if (multi_statements != state_.multi_statements()) {
    if (auto st = co_await backend_->SetMultiStatements(multi_statements); !st) {
      co_await SendError(server_error::kUnknownError, "HY000", st.error().message(), seq);
      co_return st;
    }
    state_.set_multi_statements(multi_statements);
  }
  co_return co_await SendOk(seq);
}

}  // namespace cutover::proxy
