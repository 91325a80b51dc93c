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
  // and CLIENT_SESSION_TRACK change how responses end and how OK parses. With
  // MariaDB's progress capability, an ERR with code 0xFFFF is a progress
  // report: consumed (to be forwarded) without ending the response. With
  // MariaDB's CACHE_METADATA, a column count carries a "metadata follows"
  // byte, and a prepared statement's result skips its column definitions
  // while they have not changed since the server last sent them.
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
  // With CACHE_METADATA, for COM_STMT_PREPARE and COM_STMT_EXECUTE: a 64-bit
  // fingerprint (FNV-1a) of the payloads of the column definitions this
  // response carried, i.e. of the metadata the client now holds for the
  // statement; nullopt when the response carried none (or without the
  // capability). For an execute only the first result set counts.
  const std::optional<uint64_t>& columns_fingerprint() const { return columns_fingerprint_; }
  // With CACHE_METADATA: the first result set of this response came without
  // its column definitions (the server takes the client's cached ones to be
  // current). Set once its column count was consumed.
  bool metadata_skipped() const { return metadata_skipped_; }
  // Offsets, within the `data` of the last Feed call, of the frame headers of
  // OK packets that carry info or session-state data after their warnings.
  // A proxy whose client did not negotiate CLIENT_SESSION_TRACK rewrites them.
  const std::vector<size_t>& tracked_ok_offsets() const { return tracked_ok_offsets_; }

  // Implementation state; see response_tracker.cpp.
 private:
  Capabilities caps_;
  uint16_t status_flags_ = 0;
  std::optional<ErrPacket> error_;
  std::vector<SessionStateChanges> session_changes_;
  std::optional<StmtPrepareOk> prepare_ok_;
  std::optional<size_t> prepare_id_offset_;
  std::vector<size_t> tracked_ok_offsets_;
  std::optional<uint64_t> columns_fingerprint_;
  bool metadata_skipped_ = false;
  bool first_result_ = true;  // Is the next column count the response's first?

  // Which packet the tracker expects next.
  enum class Phase : uint8_t {
    kDone,
    kResultHead,       // OK, ERR, LOCAL INFILE request (COM_QUERY only) or a column count
    kInfileUpload,     // the client is sending the file
    kInfileResult,     // OK or ERR after the upload
    kPrepareHead,      // COM_STMT_PREPARE_OK or ERR
    kDefinitions,      // definitions_left_ column or parameter definitions
    kDefinitionsEof,   // the EOF after definitions (without CLIENT_DEPRECATE_EOF)
    kRows,             // rows up to a terminator or ERR
    kFieldList,        // column definitions up to a terminator or ERR
    kSinglePacket,     // COM_STATISTICS: one packet of text
  };

  // Frame the loop in Feed() stands at.
  struct PacketStart {
    ByteView data;     // the whole of Feed()'s input
    size_t pos;        // where the frame header starts in data
    uint32_t length;   // payload length of the first frame
    uint8_t first;     // first payload byte; 0 when the payload is empty
  };

  bool deprecate_eof() const { return (caps_ & capability::kDeprecateEof) != 0; }
  // Each returns the bytes it consumed from p.pos, 0 when it needs the whole
  // packet and only part of it is there.
  Result<size_t> OnPacket(const PacketStart& p);
  Result<size_t> OnResultHead(const PacketStart& p);
  Result<size_t> OnInfileResult(const PacketStart& p);
  Result<size_t> OnPrepareHead(const PacketStart& p);
  Result<size_t> OnDefinition(const PacketStart& p);
  Result<size_t> OnDefinitionsEof(const PacketStart& p);
  Result<size_t> OnRow(const PacketStart& p);
  Result<size_t> OnFieldListPacket(const PacketStart& p);
  Result<size_t> OnSinglePacket(const PacketStart& p);

  Result<size_t> OnColumnCount(const PacketStart& p);
  Result<size_t> OnLocalInfileRequest(const PacketStart& p);
  Result<size_t> OnErr(const PacketStart& p);
  // An OK (0x00) or EOF/OK (0xFE) that may end one result of several.
  Result<size_t> OnResultEnd(const PacketStart& p);
  // An OK (0x00) or EOF/OK (0xFE) that ends the response whatever its flags.
  Result<size_t> OnFinalTerminator(const PacketStart& p);
  // Parses a whole OK/EOF payload, records its status (and session changes)
  // and returns the status flags.
  Result<uint16_t> RecordTerminator(const PacketStart& p, ByteView payload);
  size_t BeginSkip(const PacketStart& p);
  size_t ContinueSkip(ByteView data, size_t pos);
  void OnSkippedPacketEnd();
  void BeginDefinitions(uint64_t count);
  void EndDefinitions();
  bool cache_metadata() const { return (caps_ & capability::kMariaDbCacheMetadata) != 0; }
  // Starts fingerprinting the column definitions that follow.
  void BeginColumnFingerprint();

  Command command_ = Command::kSleep;
  Phase phase_ = Phase::kDone;
  bool in_skip_ = false;        // Inside a packet being skipped (not parsed)?
  bool continued_ = false;      // Does the skipped packet go on in another frame?
  uint32_t skip_left_ = 0;      // Payload bytes of the current frame still to skip.
  uint64_t definitions_left_ = 0;
  uint16_t pending_columns_ = 0;  // COM_STMT_PREPARE: column definitions after the parameters.
  bool fingerprinting_ = false;   // Are the definitions being skipped hashed into columns_fingerprint_?
};

}  // namespace cutover::protocol
