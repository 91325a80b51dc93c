// The command loop of a client session: the gate, forwarding, response
// relaying and the bookkeeping that lets a session move.
#include "proxy/client_session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/err_packet.h"
#include "protocol/ok_packet.h"
#include "protocol/statement.h"

namespace cutover::proxy {
namespace {

using namespace protocol;

// The statement id Connector/C sends to mean "the one prepared last".
constexpr uint32_t kLastPreparedStatementId = 0xffffffff;

std::string CommandName(Command c) {
  switch (c) {
    case Command::kBinlogDump: return "COM_BINLOG_DUMP";
    case Command::kBinlogDumpGtid: return "COM_BINLOG_DUMP_GTID";
    case Command::kRegisterSlave: return "COM_REGISTER_SLAVE";
    case Command::kTableDump: return "COM_TABLE_DUMP";
    default: return fmt::format("command 0x{:02x}", static_cast<unsigned>(c));
  }
}

bool IsRefused(Command c) {
  switch (c) {
    case Command::kBinlogDump: case Command::kBinlogDumpGtid: case Command::kRegisterSlave:
    case Command::kTableDump: case Command::kConnectOut:
    case Command::kDaemon: case Command::kConnect: case Command::kDelayedInsert:
    case Command::kTime: case Command::kSleep:
      return true;
    default:
      return false;
  }
}

// The proxy always asks servers to track the schema, state changes and every
// variable ('*'). OK packets that carry session state are rewritten for the
// client: without the state block when it did not negotiate
// CLIENT_SESSION_TRACK, with only the variables it tracks itself when it
// narrowed session_track_system_variables. The info stays length-encoded.
Bytes RewriteOks(ByteView chunk, const std::vector<size_t>& ok_offsets, bool client_tracks, const SessionState& state) {
  constexpr Capabilities kTracked = capability::kProtocol41 | capability::kTransactions | capability::kSessionTrack;
  Bytes out;
  size_t copied = 0;
  for (size_t offset : ok_offsets) {
    const FrameHeader header = ParseFrameHeader(chunk.data() + offset);
    const ByteView payload = chunk.subspan(offset + kFrameHeaderSize, header.payload_length);
    ByteReader in(payload.subspan(1));
    auto ok = ParseOkPacket(in, kTracked);
    out.insert(out.end(), chunk.begin() + copied, chunk.begin() + offset);
    copied = offset + kFrameHeaderSize + header.payload_length;
    if (!ok) {  // the tracker parsed it already; keep the bytes if not
      out.insert(out.end(), chunk.begin() + offset, chunk.begin() + copied);
      continue;
    }
    if (ok->session_state && (!client_tracks || !state.FilterForClient(*ok->session_state))) {
      ok->session_state.reset();
    }
    Bytes rewritten;
    WriteOkPacket(*ok, client_tracks ? kTracked : kTracked & ~capability::kSessionTrack, payload[0], rewritten);
    uint8_t seq = header.sequence_id;
    EncodePacket(rewritten, &seq, out);
  }
  out.insert(out.end(), chunk.begin() + copied, chunk.end());
  return out;
}

std::string PeerName(const tcp::socket& socket) {
  asio::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "client ?";
  return fmt::format("client {}:{}", endpoint.address().to_string(), endpoint.port());
}

}  // namespace

ClientSession::ClientSession(ProxyWorker& worker, tcp::socket socket, uint32_t id)
    : worker_(worker), client_(std::move(socket)), id_(id), peer_(PeerName(client_.socket())) {
  asio::error_code ignored;
  client_.socket().set_option(tcp::no_delay(true), ignored);
  worker_.Register(this);
}

ClientSession::~ClientSession() { worker_.Unregister(this); }

awaitable<void> ClientSession::Run() {
  auto st = co_await Login();
  if (st) {
    WarmIfPrepared();
    st = co_await CommandLoop();
  }
  if (!st && st.error().code() != ErrorCode::kCancelled) spdlog::debug("session {}: {}", id_, st.error().message());
  phase_ = Phase::kClosed;
  CloseSockets();
}

void ClientSession::CloseSockets() {
  client_.Close();
  backend_.reset();
  pending_.reset();
  standby_.reset();
}

bool ClientSession::busy() const {
  return phase_ == Phase::kConnecting || phase_ == Phase::kCommand || in_transaction_;
}

std::string ClientSession::BusyReason() const {
  if (phase_ == Phase::kConnecting) return "logging in to the backend";
  if (phase_ == Phase::kCommand) return "command in flight";
  if (in_transaction_) return "open transaction";
  return "";
}

// Holds the session while the proxy is paused or the session is being moved.
awaitable<Status> ClientSession::WaitAtGate(Phase phase) {
  const Phase before = phase_;
  phase_ = phase;
  while (AtGate()) {
    co_await worker_.WaitGate();
  }
  phase_ = before;
  co_return Status{};
}

awaitable<Status> ClientSession::CommandLoop() {
  const uint32_t max_packet = worker_.shared().config.max_packet_size;
  for (;;) {
    phase_ = Phase::kIdle;
    client_buffer_.ShrinkIfLarge();
    // The per-command path reads and waits inline (ReadSomeOp, AtGate,
    // TakeResponse) rather than through coroutine calls: each frame costs CPU
    // that the server and the clients need on the same cores.
    while (client_buffer_.size() < kFrameHeaderSize) {
      auto got = co_await ReadSomeOp(client_, client_buffer_);
      if (auto st = Received(client_buffer_, got, peer_); !st) {
        co_return Fail(Error::Cancelled(st.error().message()));  // the client went away
      }
    }
    const FrameHeader header = ParseFrameHeader(client_buffer_.data());
    if (header.sequence_id != 0 || header.payload_length == 0) {
      co_return Fail(Error::Malformed(fmt::format("{}: malformed command packet (length {}, sequence {})", peer_,
                                                  header.payload_length, header.sequence_id)));
    }
    if (header.payload_length > max_packet) {
      const std::string message =
          fmt::format("Got a packet bigger than the proxy's max_packet_size ({} bytes)", max_packet);
      co_await SendError(server_error::kNetPacketTooLarge, "08S01", message, 1);
      co_return Fail(Error::Malformed(peer_ + ": packet too large"));
    }
    // Whole packets up to one frame; bigger ones stream through after their
    // first bytes (enough for the command and a statement id).
    const bool whole = header.payload_length < kMaxFramePayload;
    const size_t need = kFrameHeaderSize + (whole ? header.payload_length : 5);
    if (client_buffer_.size() < need) {
      if (auto st = co_await ReadAtLeast(client_, client_buffer_, need, peer_); !st) {
        co_return Fail(Error::Cancelled(st.error().message()));
      }
    }
    packet_size_ = whole ? need : 0;
    const auto command = static_cast<Command>(client_buffer_.data()[kFrameHeaderSize]);
    if (command == Command::kQuit) co_return Fail(Error::Cancelled(peer_ + " quit"));
    if (!in_transaction_ && AtGate()) {
      if (auto st = co_await WaitAtGate(Phase::kHeld); !st) co_return st;
    }
    if (doom_message_) {
      co_await SendError(server_error::kConnectionKilled, "70100", *doom_message_, 1);
      co_return Fail(Error::Cancelled(peer_ + ": closed: " + *doom_message_));
    }
    phase_ = Phase::kCommand;
    ++worker_.counters().commands;
    if (auto st = co_await HandleCommand(command); !st) co_return st;
  }
}

awaitable<Status> ClientSession::HandleCommand(Command command) {
  switch (command) {
    case Command::kStmtPrepare:
      co_return co_await HandlePrepare();
    case Command::kStmtExecute:
    case Command::kStmtBulkExecute:
    case Command::kStmtFetch:
    case Command::kStmtReset:
    case Command::kStmtClose:
    case Command::kStmtSendLongData:
      co_return co_await HandleStatementCommand(command);
    case Command::kChangeUser:
      co_return co_await ChangeUser();
    case Command::kResetConnection:
      co_return co_await HandleResetConnection();
    case Command::kQuery:
      TrackQuery();
      co_return co_await Forward(command);
    case Command::kSetOption:
      co_return co_await HandleSetOption();
    default:
      if (IsRefused(command)) co_return co_await RefuseCommand(command);
      co_return co_await Forward(command);
  }
}

void ClientSession::TrackQuery() {
  const size_t available = packet_size_ ? packet_size_ : client_buffer_.size();
  const ByteView payload = client_buffer_.readable().subspan(kFrameHeaderSize + 1, available - kFrameHeaderSize - 1);
  state_.ApplyPinScan(ScanQueryForPins(AsChars(payload)));
  tracking_query_ = MentionsSessionTracking(AsChars(payload));
}

awaitable<Status> ClientSession::Forward(Command command) {
  // The fast path: the backend's socket takes the whole packet at once.
  ByteView unsent = client_buffer_.readable().first(packet_size_);
  if (packet_size_ > 0 && WriteNow(backend_->stream(), unsent)) {
    client_buffer_.Consume(packet_size_);
  } else if (auto st = co_await SendClientPacket(unsent); !st) {
    co_return co_await BackendLost(st.error(), false);
  }
  if (auto st = co_await RelayResponse(command); !st) co_return st;
  const bool ask_server = TakeResponse();
  if (!ask_server && !tracking_query_) co_return Status{};
  co_return co_await AfterResponse(ask_server);
}

awaitable<Status> ClientSession::SendClientPacket(ByteView unsent) {
  if (packet_size_ == 0) co_return co_await StreamFrames(false);
  auto st = co_await WriteAll(backend_->stream(), unsent, backend_->peer());
  client_buffer_.Consume(packet_size_);
  co_return st;
}

// Copies frames from the client to the backend as they arrive, up to the end
// of one logical packet, or (LOCAL INFILE uploads) up to an empty packet.
awaitable<Status> ClientSession::StreamFrames(bool until_empty_packet, bool to_backend) {
  const uint32_t max_packet = worker_.shared().config.max_packet_size;
  uint64_t packet_bytes = 0;
  for (;;) {
    if (auto st = co_await ReadAtLeast(client_, client_buffer_, kFrameHeaderSize, peer_); !st) co_return st;
    const FrameHeader header = ParseFrameHeader(client_buffer_.data());
    const bool packet_ends = header.payload_length < kMaxFramePayload;
    const bool empty_packet = header.payload_length == 0 && packet_bytes == 0;
    packet_bytes += header.payload_length;
    if (packet_bytes > max_packet) co_return Fail(Error::Malformed(peer_ + ": packet larger than max_packet_size"));
    size_t remaining = kFrameHeaderSize + header.payload_length;
    while (remaining > 0) {
      if (client_buffer_.empty()) {
        if (auto st = co_await ReadSome(client_, client_buffer_, peer_); !st) co_return st;
      }
      const size_t take = std::min(remaining, client_buffer_.size());
      if (to_backend) {
        auto st = co_await WriteAll(backend_->stream(), client_buffer_.readable().first(take), backend_->peer());
        if (!st) co_return st;
      }
      client_buffer_.Consume(take);
      remaining -= take;
    }
    if (packet_ends) {
      if (!until_empty_packet || empty_packet) co_return Status{};
      packet_bytes = 0;
    }
  }
}

awaitable<Status> ClientSession::RelayResponse(Command command) {
  ResponseTracker& tracker = backend_->tracker();
  IoBuffer& buf = backend_->buffer();
  tracker.Start(command);
  bool started = false;
  std::optional<uint32_t> prepared;  // the client id of a statement this response prepared
  while (!tracker.done()) {
    auto n = tracker.Feed(buf.readable());
    if (!n) {
      const Error error = n.error().WithContext(backend_->peer());
      co_return co_await BackendLost(error, started);
    }
    if (auto offset = tracker.prepare_id_offset(); offset && tracker.prepare_ok()) {
      const StmtPrepareOk& ok = *tracker.prepare_ok();
      const uint32_t client_id = state_.AddStatement(
          PreparedStatement{std::move(pending_prepare_sql_), ok.statement_id, ok.num_params, ok.num_columns});
      StoreU32(buf.data() + *offset, client_id);
      prepared = client_id;
    }
    if (!started && executing_ && executing_->columns_unconfirmed && tracker.metadata_skipped()) {
      buf.Consume(*n);
      co_return co_await RefuseStaleColumns();
    }
    if (*n > 0) {
      started = true;
      const ByteView chunk = buf.readable().first(*n);
      const bool client_tracks = (client_capabilities_ & capability::kSessionTrack) != 0;
      const bool rewrite =
          !tracker.tracked_ok_offsets().empty() && (!client_tracks || state_.client_tracking().has_value());
      const Bytes rewritten = rewrite ? RewriteOks(chunk, tracker.tracked_ok_offsets(), client_tracks, state_) : Bytes();
      ByteView out = rewrite ? ByteView(rewritten) : chunk;
      if (!WriteNow(client_, out)) {
        if (auto st = co_await WriteAll(client_, out, peer_); !st) co_return st;
      }
      buf.Consume(*n);
    }
    if (tracker.done()) break;
    if (tracker.awaiting_local_infile()) {
      if (auto st = co_await StreamFrames(true); !st) co_return co_await BackendLost(st.error(), true);
      tracker.LocalInfileSent();
      continue;
    }
    auto got = co_await ReadSomeOp(backend_->stream(), buf);
    if (auto st = Received(buf, got, backend_->peer()); !st) co_return co_await BackendLost(st.error(), started);
  }
  if (PreparedStatement* statement = prepared ? state_.FindStatement(*prepared) : nullptr) NoteClientColumns(*statement);
  buf.ShrinkIfLarge();
  co_return Status{};
}

void ClientSession::NoteClientColumns(PreparedStatement& statement) {
  if (const auto& fingerprint = backend_->tracker().columns_fingerprint()) {
    statement.client_columns = fingerprint;
    statement.columns_unconfirmed = false;
  }
}

// The response's server skipped the column definitions of a statement whose
// columns, since the session moved to it, differ from those the client holds
// (DDL on the new server before the move). Forwarding it would have the client
// read rows with the wrong columns: the response is read to its end and
// dropped, the client gets an error, and the session closes.
awaitable<Status> ClientSession::RefuseStaleColumns() {
  if (auto st = co_await backend_->DrainResponse(); !st) co_return co_await BackendLost(st.error(), false);
  const std::string message =
      "cutover: this session was closed because, since it moved to another server, a prepared statement's result "
      "columns are not the ones this client holds (DDL changed them); reconnect and prepare it again";
  spdlog::warn("session {} ({}): {}", id_, user_, message);
  co_await SendError(server_error::kConnectionKilled, "70100", message, 1);
  co_return Fail(Error::Cancelled(peer_ + ": " + message));
}

bool ClientSession::TakeResponse() {
  const ResponseTracker& tracker = backend_->tracker();
  for (const auto& changes : tracker.session_changes()) state_.ApplyChanges(changes);
  // An ERR carries no status flags, and an error can end a transaction
  // (deadlock) or leave it open (duplicate key): the server is asked then.
  if (tracker.error()) return in_transaction_ || !(status_flags_ & status::kAutocommit);
  status_flags_ = tracker.status_flags();
  in_transaction_ = status_flags_ & status::kInTrans;
  return false;
}

awaitable<Status> ClientSession::AfterResponse(bool ask_server) {
  if (ask_server) {
    if (auto st = co_await backend_->Ping(); !st) co_return co_await BackendLost(st.error(), true);
    status_flags_ = backend_->status_flags();
    in_transaction_ = status_flags_ & status::kInTrans;
  }
  if (tracking_query_) {
    tracking_query_ = false;
    co_return co_await FollowClientTracking();
  }
  co_return Status{};
}

// The client's statement named session_track_system_variables (MariaDB
// Connector/J narrows it at connect). The server does not report that change
// under the narrowed list, so it is read; unless it is '*', it is widened
// again for the proxy, or SET time_zone and the like would go unseen and be
// lost at the next move. The client is shown only the variables it named.
awaitable<Status> ClientSession::FollowClientTracking() {
  auto value = co_await backend_->QueryValue("SELECT @@SESSION.session_track_system_variables");
  if (!value) co_return co_await BackendLost(value.error(), true);
  if (!state_.SetClientTracking(value->value_or(""))) co_return Status{};
  if (auto st = co_await backend_->EnableTracking(); !st) co_return co_await BackendLost(st.error(), true);
  co_return Status{};
}

awaitable<Status> ClientSession::HandlePrepare() {
  const ByteView payload = client_buffer_.readable().subspan(kFrameHeaderSize + 1, packet_size_ ? packet_size_ - kFrameHeaderSize - 1 : 0);
  pending_prepare_sql_.assign(AsChars(payload));
  co_return co_await Forward(Command::kStmtPrepare);
}

awaitable<Status> ClientSession::HandleStatementCommand(Command command) {
  const size_t available = packet_size_ ? packet_size_ : client_buffer_.size();
  if (available < kFrameHeaderSize + 5) co_return co_await Forward(command);  // the server will reject it
  uint8_t* id_bytes = client_buffer_.data() + kFrameHeaderSize + kStatementIdOffset;
  const uint32_t client_id = LoadU32(id_bytes);
  PreparedStatement* statement = state_.FindStatement(client_id);
  // 0xffffffff is Connector/C's "the statement prepared last", which the
  // server resolves itself; any other unknown id must not reach the server,
  // which could take it for a statement of its own.
  if (!statement && client_id != kLastPreparedStatementId) co_return co_await RefuseStatement(command, client_id);
  if (statement) StoreU32(id_bytes, statement->backend_id);
  switch (command) {
    case Command::kStmtClose:
      state_.RemoveStatement(client_id);
      break;
    case Command::kStmtExecute:
    case Command::kStmtBulkExecute: {
      if (!statement) break;
      executing_ = statement;
      Status st;
      if (command == Command::kStmtExecute) {
        auto executed = co_await HandleExecute(*statement);
        st = std::move(executed);
      } else {
        auto executed = co_await HandleBulkExecute(*statement);
        st = std::move(executed);
      }
      executing_ = nullptr;
      if (st) NoteClientColumns(*statement);
      co_return st;
    }
    case Command::kStmtReset:
      if (statement) state_.SetCursorOpen(*statement, false);
      break;
    default:
      break;
  }
  if (auto st = co_await Forward(command); !st) co_return st;
  if (command == Command::kStmtFetch && statement && (status_flags_ & status::kLastRowSent)) {
    state_.SetCursorOpen(*statement, false);
  }
  co_return Status{};
}

// Answers a statement command for an id the client was never given (or has
// closed) as the server would: ER_UNKNOWN_STMT_HANDLER, or nothing for the
// commands that have no response.
awaitable<Status> ClientSession::RefuseStatement(Command command, uint32_t client_id) {
  if (packet_size_ == 0) {
    if (auto st = co_await StreamFrames(false, /*to_backend=*/false); !st) co_return st;
  } else {
    client_buffer_.Consume(packet_size_);
  }
  if (command == Command::kStmtClose || command == Command::kStmtSendLongData) co_return Status{};
  const std::string message =
      fmt::format("Unknown prepared statement handler ({}) given to {}", client_id,
                  command == Command::kStmtExecute ? "mysqld_stmt_execute"
                  : command == Command::kStmtBulkExecute ? "mysqld_stmt_bulk_execute"
                  : command == Command::kStmtFetch ? "mysqld_stmt_fetch"
                                                   : "mysqld_stmt_reset");
  co_return co_await SendError(server_error::kUnknownStatement, "HY000", message,
                               1);
}

// Remembers the parameter types a client binds, and sends them again to a
// server that has not seen them (the session moved since they were bound).
awaitable<Status> ClientSession::HandleExecute(PreparedStatement& statement) {
  if (statement.num_params > 0 && packet_size_ > 0) {
    const ByteView payload = client_buffer_.readable().subspan(kFrameHeaderSize, packet_size_ - kFrameHeaderSize);
    auto head = ParseStmtExecuteHead(payload, statement.num_params);
    if (head && head->new_params_bound) {
      statement.param_types.assign(payload.begin() + head->types_offset,
                                   payload.begin() + head->types_offset + 2 * statement.num_params);
      statement.backend_has_types = true;
    } else if (head && !statement.backend_has_types && !statement.param_types.empty()) {
      const size_t flag_offset = head->null_bitmap_offset + (statement.num_params + 7) / 8;
      Bytes rebuilt(payload.begin(), payload.begin() + flag_offset);
      rebuilt.push_back(1);
      rebuilt.insert(rebuilt.end(), statement.param_types.begin(), statement.param_types.end());
      rebuilt.insert(rebuilt.end(), payload.begin() + flag_offset + 1, payload.end());
      statement.backend_has_types = true;
      co_return co_await ForwardRebuilt(rebuilt, Command::kStmtExecute);
    }
  }
  const bool cursor = packet_size_ > kFrameHeaderSize + 5 &&
                      (client_buffer_.data()[kFrameHeaderSize + 5] & kCursorTypeReadOnly);
  if (auto st = co_await Forward(Command::kStmtExecute); !st) co_return st;
  state_.SetCursorOpen(statement, cursor && (status_flags_ & status::kCursorExists));
  co_return Status{};
}

awaitable<Status> ClientSession::HandleSetOption() {
  if (packet_size_ != kFrameHeaderSize + 3) co_return co_await Forward(Command::kSetOption);
  const uint16_t option = LoadU16(client_buffer_.data() + kFrameHeaderSize + 1);
  if (auto st = co_await Forward(Command::kSetOption); !st) co_return st;
  if (!backend_->tracker().error()) {
    state_.set_multi_statements(option == static_cast<uint16_t>(SetOption::kMultiStatementsOn));
  }
  co_return Status{};
}

awaitable<Status> ClientSession::HandleResetConnection() {
  if (auto st = co_await Forward(Command::kResetConnection); !st) co_return st;
  if (backend_->tracker().error()) co_return Status{};
  state_.Reset();
  // The reset also switched off the session tracking the proxy relies on.
  if (auto st = co_await backend_->EnableTracking(); !st) co_return co_await BackendLost(st.error(), true);
  co_return Status{};
}

awaitable<Status> ClientSession::RefuseCommand(Command command) {
  if (packet_size_ == 0) co_return Fail(Error::Unsupported(peer_ + ": oversized refused command"));
  client_buffer_.Consume(packet_size_);
  const std::string message = fmt::format(
      "cutover: {} is not supported through the proxy; connect to the server directly", CommandName(command));
  co_return co_await SendError(server_error::kUnknownCommand, "08S01", message, 1);
}

awaitable<Status> ClientSession::BackendLost(const Error& error, bool response_started) {
  ++worker_.counters().backend_errors;
  spdlog::warn("session {} ({}): {}", id_, user_, error.message());
  if (!response_started) {
    const std::string message =
        fmt::format("cutover: lost connection to the database during query ({})", error.message());
    co_await SendError(server_error::kConnectionKilled, "70100", message, 1);
  }
  co_return Fail(error);
}

}  // namespace cutover::proxy
