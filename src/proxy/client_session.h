// One client connection through the proxy and the backend connection that
// serves it.
//
// The session logs the client in itself, opens a backend connection as the
// same user, then forwards commands and responses. Responses pass through
// unchanged but for prepared-statement ids; the response tracker reads only
// what it needs to know when a response ends and the session's state after it.
// At a transaction boundary a paused proxy holds the next command; while held,
// the control plane can move the session to another server (PrepareMove, then
// CommitMove or AbortMove) with its state intact. Before the pause, Warm opens
// that connection ahead (a standby), so that PrepareMove only replays what
// changed since and the pause does not grow with the number of sessions.
// Thread-safety: none; every method runs on the owning worker's thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "protocol/auth.h"
#include "protocol/constants.h"
#include "proxy/backend_connection.h"
#include "proxy/session_state.h"
#include "proxy/worker.h"

namespace cutover::proxy {

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  enum class Phase {
    kHandshake,   // the client is logging in
    kLoginHeld,   // logged in, waiting for a pause to end before connecting
    kConnecting,  // logging in to the backend
    kIdle,        // waiting for the client's next command
    kHeld,        // a command arrived during a pause and waits for the resume
    kCommand,     // a command is in flight
    kClosed,
  };

  ClientSession(ProxyWorker& worker, tcp::socket socket, uint32_t id);
  ~ClientSession();

  // Serves the connection until either side closes it.
  awaitable<void> Run();

  uint32_t id() const { return id_; }
  const std::string& user() const { return user_; }
  const std::string& peer() const { return peer_; }
  Phase phase() const { return phase_; }
  bool in_transaction() const { return in_transaction_; }
  uint32_t pins() const { return state_.pins(); }
  const SessionState& state() const { return state_; }
  std::string backend_address() const { return backend_ ? backend_->address().ToString() : ""; }
  uint32_t backend_connection_id() const { return backend_ ? backend_->connection_id() : 0; }
  // A command in flight, a backend login under way or an open transaction:
  // the session is not at a transaction boundary.
  bool busy() const;
  // Why busy() is true, for operators.
  std::string BusyReason() const;
  // Has a backend connection to move (sessions without one will connect to
  // the primary of the moment once the pause ends).
  bool has_backend() const { return backend_ != nullptr; }
  bool has_pending_move() const { return pending_.has_value(); }

  // Opens a standby connection on `target` that mirrors this session's state,
  // while the session goes on serving its client. kPrecondition when the
  // session cannot move (pinned, no backend) or is warming already.
  awaitable<Status> Warm(HostPort target);
  bool has_standby() const { return standby_.has_value(); }
  // Starts Warm beside the session when a move is prepared (a session that
  // logs in after POST /prepare).
  void WarmIfPrepared();
  void DropStandby() { standby_.reset(); }

  // Readies a backend connection on `target` that mirrors this session's
  // state: the standby brought up to date when there is a live one for
  // `target` (no I/O when nothing changed), a new connection otherwise. The
  // session holds its next command until CommitMove or AbortMove.
  // REQUIRES: !busy(), has_backend() and the proxy is paused.
  awaitable<Status> PrepareMove(HostPort target);
  // Switches to the connection PrepareMove made. REQUIRES: PrepareMove succeeded.
  void CommitMove();
  // Keeps the backend it has; the connection PrepareMove readied stays as the
  // standby while the same move is still prepared (it is tried again).
  void AbortMove();
  // The session cannot move: its next command gets this error, then it closes.
  void Doom(std::string message) { doom_message_ = std::move(message); }

 private:
  // client_login.cpp
  awaitable<Status> Login();
  awaitable<Status> ConnectBackend(std::string database);
  awaitable<Status> ChangeUser();
  // Logs the client in as `name` with the user's plugin (switching the client
  // to it when it answered for another), from the client's first answer
  // `token` for `plugin`. Returns stage 1 for the servers (nullopt: empty
  // password); on a wrong password the client has had its 1045.
  awaitable<Result<std::optional<protocol::Sha1Digest>>> Authenticate(const std::string& name,
                                                                      std::string_view plugin, std::string token,
                                                                      uint8_t* seq);
  awaitable<Result<std::string>> Exchange(ByteView payload, uint8_t* seq);
  awaitable<Result<std::optional<std::string>>> CachingSha2(const ProxyUser* user, const std::string& token,
                                                            uint8_t* seq);
  awaitable<Result<std::optional<protocol::Sha1Digest>>> DenyAccess(const std::string& name, bool with_password,
                                                                    uint8_t seq);
  awaitable<Status> SendError(uint16_t code, std::string_view sql_state, std::string_view message, uint8_t seq);
  awaitable<Status> SendOk(uint8_t seq);
  awaitable<Status> SendBackendError(const Error& e, uint8_t seq);

  // A backend connection and the session state it holds.
  struct Mirror {
    std::unique_ptr<BackendConnection> backend;
    std::string schema;
    std::map<std::string, std::string> variables;
    bool multi_statements = false;
    std::unordered_map<uint32_t, uint32_t> statements;  // client id -> id on this backend
    // With CACHE_METADATA: the fingerprint of the result columns each
    // statement's prepare here reported (ResponseTracker::columns_fingerprint).
    std::unordered_map<uint32_t, std::optional<uint64_t>> columns;
  };

  // session_move.cpp
  awaitable<Result<Mirror>> OpenMirror(const HostPort& target);
  // Brings `mirror` to the session's state of now: schema, variables,
  // multi-statement option, prepared statements. kPrecondition when it
  // cannot (state was reset): open a new one then.
  awaitable<Status> SyncMirror(Mirror& mirror);

  // client_session.cpp
  awaitable<Status> CommandLoop();
  awaitable<Status> HandleCommand(protocol::Command command);
  awaitable<Status> Forward(protocol::Command command);
  // Must the next command wait (the proxy is paused or the session moving)?
  bool AtGate() const { return worker_.shared().paused.load(std::memory_order_relaxed) || moving_; }
  awaitable<Status> WaitAtGate(Phase phase);
  // Sends the client's packet on: `unsent`, the part of a whole packet still
  // to write, or (packet_size_ == 0) a large packet's frames as they arrive.
  awaitable<Status> SendClientPacket(ByteView unsent);
  // Copies (or, with !to_backend, discards) client frames as they arrive.
  awaitable<Status> StreamFrames(bool until_empty_packet, bool to_backend = true);
  awaitable<Status> RelayResponse(protocol::Command command);
  // Takes in what the response said of the session (changes, status flags).
  // True when that is not enough: an error's effect on the transaction must
  // be asked of the server (AfterResponse(true)).
  bool TakeResponse();
  // The I/O a response may need after it: asking the server for the status
  // flags, following a change of session_track_system_variables.
  awaitable<Status> AfterResponse(bool ask_server);
  awaitable<Status> FollowClientTracking();
  awaitable<Status> HandlePrepare();
  awaitable<Status> HandleStatementCommand(protocol::Command command);
  awaitable<Status> HandleExecute(PreparedStatement& statement);
  // Records the column definitions the response just relayed gave the client
  // for `statement`, if it carried any.
  void NoteClientColumns(PreparedStatement& statement);
  awaitable<Status> RefuseStaleColumns();
  // Sends `payload` in place of the client's packet (consumed), and relays the answer.
  // REQUIRES: packet_size_ > 0.
  awaitable<Status> ForwardRebuilt(ByteView payload, protocol::Command command);
  // client_bulk.cpp
  awaitable<Status> HandleBulkExecute(PreparedStatement& statement);
  awaitable<Status> RefuseStatement(protocol::Command command, uint32_t client_id);
  awaitable<Status> HandleResetConnection();
  awaitable<Status> HandleSetOption();
  awaitable<Status> RefuseCommand(protocol::Command command);
  awaitable<Status> BackendLost(const Error& error, bool response_started);
  void TrackQuery();
  void CloseSockets();

  ProxyWorker& worker_;
  Stream client_;
  uint32_t id_;
  std::string peer_;  // "client 127.0.0.1:50412", for errors
  IoBuffer client_buffer_{4 * 1024};
  size_t packet_size_ = 0;  // header + payload of the client packet at the front of client_buffer_

  // Login facts, kept to log in again elsewhere.
  std::string user_;
  std::optional<protocol::Sha1Digest> stage1_;  // nullopt: empty password
  const std::string* password_ = nullptr;        // the config's cleartext, if any (see BackendLogin)
  std::string scramble_;
  protocol::Capabilities client_capabilities_ = 0;
  uint8_t character_set_ = 0;
  std::vector<std::pair<std::string, std::string>> attributes_;

  std::unique_ptr<BackendConnection> backend_;
  std::optional<Mirror> pending_;  // made by PrepareMove
  std::optional<Mirror> standby_;  // made by Warm, used by PrepareMove
  bool warming_ = false;           // Is a Warm under way?

  SessionState state_;
  Phase phase_ = Phase::kHandshake;
  bool in_transaction_ = false;
  uint16_t status_flags_ = 0;
  std::optional<std::string> doom_message_;
  bool moving_ = false;              // Is a PrepareMove not yet committed or aborted?
  std::string pending_prepare_sql_;  // text of the COM_STMT_PREPARE in flight
  PreparedStatement* executing_ = nullptr;  // the statement of the COM_STMT_(BULK_)EXECUTE in flight
  bool tracking_query_ = false;      // Does the COM_QUERY in flight name session_track_system_variables?
};

}  // namespace cutover::proxy
