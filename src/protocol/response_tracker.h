// Follows one server response, byte by byte as it arrives, to tell exactly
// when it is complete and with which status flags.
//
// The proxy forwards server bytes unchanged. The tracker reads only packet
// headers and the few bytes it needs in place (first byte; the whole packet
// only for OK/EOF/ERR, COM_STMT_PREPARE_OK and a result's column count), and
// skips over rows and column definitions, including payloads split across
// reads and packets of 16 MiB or more split across frames.
//
// Usage:
//   tracker.Start(Command::kQuery);
//   while (!tracker.done()) {
//     append server bytes to buf;
//     auto n = tracker.Feed(buf);         // consumes a prefix of buf
//     forward buf[0, *n) to the client;   // keep buf[*n, end) for the next Feed
//     if (tracker.awaiting_local_infile()) { forward client packets up to the
//       empty one; tracker.LocalInfileSent(); }
//   }
//
// Sans-io. Thread-safety: none; one tracker per backend connection.
#pragma once

#include <optional>
#include <vector>

#include "common/bytes.h"
#include "protocol/constants.h"
#include "protocol/err_packet.h"
#include "protocol/session_state.h"
#include "protocol/statement.h"

namespace cutover::protocol {

class ResponseTracker {
 public:
  // caps: the capabilities negotiated on this connection; CLIENT_DEPRECATE_EOF
  // and CLIENT_SESSION_TRACK change how responses end and how OK parses.
  explicit ResponseTracker(Capabilities caps) : caps_(caps) {}

  // Starts following the response to `command`. For commands without a
  // response (COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA) done() is
  // true at once.
  // REQUIRES: done() (the previous response, if any, is complete).
  void Start(Command command);

  // Consumes a prefix of `data`, the next bytes the server sent. Returns how
  // many bytes were consumed: fewer than data.size() when the tracker needs a
  // packet whole and only part of it is in `data` (call again with the rest
  // appended), when the response is done, or when it waits for a LOCAL INFILE
  // upload. Errors are kMalformed (the server broke the protocol); the
  // connection cannot be used after one.
  // REQUIRES: !done() && !awaiting_local_infile().
  [[nodiscard]] Result<size_t> Feed(ByteView data);

  // The response is complete.
  bool done() const;
  // The server sent a LOCAL INFILE request (0xFB): the client now sends the
  // file's packets, ending with an empty one, which the server answers with
  // OK or ERR.
  bool awaiting_local_infile() const;
  // REQUIRES: awaiting_local_infile(). The client's empty packet has been forwarded.
  void LocalInfileSent();

  // Status flags of the last OK or EOF packet seen; unchanged by ERR.
  uint16_t status_flags() const { return status_flags_; }
  // The response ended with an ERR packet (the last result, if several).
  const std::optional<ErrPacket>& error() const { return error_; }
  // Session-state changes from every OK packet of this response, in order.
  // Cleared by Start().
  const std::vector<SessionStateChanges>& session_changes() const { return session_changes_; }

  // For COM_STMT_PREPARE: set once the COM_STMT_PREPARE_OK was parsed.
  const std::optional<StmtPrepareOk>& prepare_ok() const { return prepare_ok_; }
  // For COM_STMT_PREPARE: the offset, within the `data` of the Feed call that
  // consumed it, of the 4-byte statement id in COM_STMT_PREPARE_OK, so that
  // the caller can rewrite it in place before forwarding. Reset by every Feed.
  std::optional<size_t> prepare_id_offset() const { return prepare_id_offset_; }

  // Implementation state; see response_tracker.cpp.
 private:
  Capabilities caps_;
  uint16_t status_flags_ = 0;
  std::optional<ErrPacket> error_;
  std::vector<SessionStateChanges> session_changes_;
  std::optional<StmtPrepareOk> prepare_ok_;
  std::optional<size_t> prepare_id_offset_;
  // (More private state follows, owned by response_tracker.cpp.)
};

}  // namespace cutover::protocol
