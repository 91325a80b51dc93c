// The response state machine. Only the packets that decide where a response
// ends are parsed whole (OK, EOF, ERR, COM_STMT_PREPARE_OK, column counts);
// rows and definitions are skipped by their frame headers, so the hot path
// (point selects) touches four header bytes and one payload byte per packet
// and never allocates.
#include "protocol/response_tracker.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include <fmt/format.h>

#include "protocol/eof_packet.h"
#include "protocol/frame.h"
#include "protocol/ok_packet.h"

namespace cutover::protocol {
namespace {

// The payload of a packet that fits in one frame, when all of it is in data.
std::optional<ByteView> WholePayload(ByteView data, size_t pos, uint32_t length) {
  if (data.size() - pos - kFrameHeaderSize < length) return std::nullopt;
  return data.subspan(pos + kFrameHeaderSize, length);
}

// The hot loop: whole rows that are neither terminators nor errors, with no
// state kept between them.
size_t SkipWholeRows(ByteView data, size_t pos) {
  const uint8_t* base = data.data();
  const size_t size = data.size();
  while (size - pos > kFrameHeaderSize) {
    uint32_t length = LoadU24(base + pos);
    uint8_t first = base[pos + kFrameHeaderSize];
    if (length == 0 || length >= kMaxFramePayload || first == kEofHeader || first == kErrHeader ||
        size - pos - kFrameHeaderSize < length) {
      break;
    }
    pos += kFrameHeaderSize + length;
  }
  return pos;
}

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t FnvMix(uint64_t hash, ByteView bytes) {
  for (uint8_t b : bytes) hash = (hash ^ b) * kFnvPrime;
  return hash;
}

std::unexpected<Error> Malformed(std::string_view what) {
  return Fail(Error::Malformed(fmt::format("server response: {}", what)));
}

std::unexpected<Error> Malformed(std::string_view what, const Error& cause) {
  return Fail(Error::Malformed(fmt::format("server response: {}: {}", what, cause.message())));
}

}  // namespace

void ResponseTracker::Start(Command command) {
  assert(done());
  command_ = command;
  error_.reset();
  session_changes_.clear();
  prepare_ok_.reset();
  prepare_id_offset_.reset();
  columns_fingerprint_.reset();
  metadata_skipped_ = false;
  first_result_ = true;
  fingerprinting_ = false;
  in_skip_ = false;
  continued_ = false;
  skip_left_ = 0;
  definitions_left_ = 0;
  pending_columns_ = 0;
  switch (command) {
    case Command::kQuit:
    case Command::kStmtClose:
    case Command::kStmtSendLongData: phase_ = Phase::kDone; break;
    case Command::kStmtPrepare: phase_ = Phase::kPrepareHead; break;
    case Command::kStmtFetch: phase_ = Phase::kRows; break;
    case Command::kFieldList: phase_ = Phase::kFieldList; break;
    case Command::kStatistics: phase_ = Phase::kSinglePacket; break;
    default: phase_ = Phase::kResultHead; break;
  }
}

bool ResponseTracker::done() const { return phase_ == Phase::kDone; }

bool ResponseTracker::awaiting_local_infile() const { return phase_ == Phase::kInfileUpload; }

void ResponseTracker::LocalInfileSent() {
  assert(awaiting_local_infile());
  phase_ = Phase::kInfileResult;
}

Result<size_t> ResponseTracker::Feed(ByteView data) {
  assert(!done() && !awaiting_local_infile());
  prepare_id_offset_.reset();
  tracked_ok_offsets_.clear();
  size_t pos = 0;
  while (phase_ != Phase::kDone && phase_ != Phase::kInfileUpload) {
    if (in_skip_) {
      size_t next = ContinueSkip(data, pos);
      if (in_skip_) return next;  // the data ended inside the skipped packet
      pos = next;
      continue;
    }
    if (phase_ == Phase::kRows) pos = SkipWholeRows(data, pos);
    if (data.size() - pos < kFrameHeaderSize) break;
    FrameHeader h = ParseFrameHeader(data.data() + pos);
    // Every packet the tracker classifies needs its first payload byte.
    if (h.payload_length > 0 && data.size() - pos == kFrameHeaderSize) break;
    uint8_t first = h.payload_length > 0 ? data[pos + kFrameHeaderSize] : 0;
    auto used = OnPacket({data, pos, h.payload_length, first});
    if (!used) return Fail(std::move(used.error()));
    if (*used == 0) break;
    pos += *used;
  }
  return pos;
}

Result<size_t> ResponseTracker::OnPacket(const PacketStart& p) {
  // Phases whose packets are all parsed whole: none of those is ever 16 MiB,
  // and waiting for one that claims to be would stall the proxy.
  bool whole_only = phase_ == Phase::kResultHead || phase_ == Phase::kInfileResult ||
                    phase_ == Phase::kPrepareHead || phase_ == Phase::kDefinitionsEof;
  if (whole_only && p.length >= kMaxFramePayload) return Malformed("16 MiB packet where OK, ERR or a header belongs");
  // Every server packet but COM_STATISTICS's text has at least a header byte.
  if (p.length == 0 && phase_ != Phase::kSinglePacket) return Malformed("empty packet");
  switch (phase_) {
    case Phase::kResultHead: return OnResultHead(p);
    case Phase::kInfileResult: return OnInfileResult(p);
    case Phase::kPrepareHead: return OnPrepareHead(p);
    case Phase::kDefinitions: return OnDefinition(p);
    case Phase::kDefinitionsEof: return OnDefinitionsEof(p);
    case Phase::kRows: return OnRow(p);
    case Phase::kFieldList: return OnFieldListPacket(p);
    case Phase::kSinglePacket: return OnSinglePacket(p);
    case Phase::kDone:
    case Phase::kInfileUpload: break;
  }
  assert(false && "OnPacket in a phase without packets");
  return 0;
}

// ---- Phases -----------------------------------------------------------------

Result<size_t> ResponseTracker::OnResultHead(const PacketStart& p) {
  switch (p.first) {
    case kOkHeader:
    case kEofHeader: return OnResultEnd(p);
    case kErrHeader: return OnErr(p);
    case kLocalInfileHeader: return OnLocalInfileRequest(p);
    default: return OnColumnCount(p);
  }
}

Result<size_t> ResponseTracker::OnInfileResult(const PacketStart& p) {
  if (p.first == kOkHeader) return OnResultEnd(p);
  if (p.first == kErrHeader) return OnErr(p);
  return Malformed("neither OK nor ERR after a LOCAL INFILE upload");
}

Result<size_t> ResponseTracker::OnPrepareHead(const PacketStart& p) {
  if (p.first == kErrHeader) return OnErr(p);
  if (p.first != kOkHeader) return Malformed("neither COM_STMT_PREPARE_OK nor ERR");
  auto payload = WholePayload(p.data, p.pos, p.length);
  if (!payload) return 0;
  ByteReader in(payload->subspan(1));
  auto ok = ParseStmtPrepareOk(in);
  if (!ok) return Malformed("bad COM_STMT_PREPARE_OK", ok.error());
  prepare_ok_ = *ok;
  prepare_id_offset_ = p.pos + kFrameHeaderSize + kPrepareOkStatementIdOffset;
  pending_columns_ = ok->num_columns;
  if (ok->num_params > 0) {
    BeginDefinitions(ok->num_params);
  } else {
    EndDefinitions();  // goes on to the columns, if any
  }
  return kFrameHeaderSize + p.length;
}

Result<size_t> ResponseTracker::OnDefinition(const PacketStart& p) {
  if (p.first == kErrHeader) return OnErr(p);
  return BeginSkip(p);
}

Result<size_t> ResponseTracker::OnDefinitionsEof(const PacketStart& p) {
  if (p.first == kErrHeader) return OnErr(p);
  if (p.first != kEofHeader) return Malformed("no EOF after column definitions");
  auto payload = WholePayload(p.data, p.pos, p.length);
  if (!payload) return 0;
  auto status = RecordTerminator(p, *payload);
  if (!status) return Fail(std::move(status.error()));
  // A cursor was opened: rows come only on COM_STMT_FETCH. (With
  // CLIENT_DEPRECATE_EOF the server sends a 0xFE OK instead, which ends the
  // rows phase like any terminator.)
  if (command_ == Command::kStmtExecute && (*status & status::kCursorExists) != 0) {
    phase_ = Phase::kDone;
  } else {
    EndDefinitions();
  }
  return kFrameHeaderSize + p.length;
}

Result<size_t> ResponseTracker::OnRow(const PacketStart& p) {
  if (p.first == kErrHeader) return OnErr(p);
  // A text row may start with 0xFE (8-byte length prefix) only when it is at
  // least 16 MiB, so a shorter 0xFE packet is the terminator. Binary rows
  // start with 0x00.
  if (p.first == kEofHeader && p.length < kMaxFramePayload) return OnResultEnd(p);
  return BeginSkip(p);
}

Result<size_t> ResponseTracker::OnFieldListPacket(const PacketStart& p) {
  if (p.first == kErrHeader) return OnErr(p);
  if (p.first == kEofHeader && p.length < kMaxFramePayload) return OnFinalTerminator(p);
  return BeginSkip(p);
}

Result<size_t> ResponseTracker::OnSinglePacket(const PacketStart& p) {
  if (p.first == kErrHeader) return OnErr(p);
  return BeginSkip(p);
}

// ---- Whole packets ----------------------------------------------------------

Result<size_t> ResponseTracker::OnColumnCount(const PacketStart& p) {
  auto payload = WholePayload(p.data, p.pos, p.length);
  if (!payload) return 0;
  ByteReader in(*payload);
  auto count = in.LenencInt();
  if (!count) return Malformed("bad column count", count.error());
  bool metadata_follows = true;
  if (cache_metadata()) {
    auto follows = in.U8();
    if (!follows || *follows > 1) return Malformed("bad \"metadata follows\" byte after a column count");
    metadata_follows = *follows == 1;
  }
  if (auto end = in.ExpectEnd("column count packet"); !end) return Malformed("bad column count", end.error());
  if (*count == 0) return Malformed("column count of 0");
  const bool first_result = std::exchange(first_result_, false);
  if (!metadata_follows) {
    if (first_result) metadata_skipped_ = true;
    // The client's cached definitions stand in; their EOF still comes.
    if (deprecate_eof()) {
      EndDefinitions();
    } else {
      phase_ = Phase::kDefinitionsEof;
    }
    return kFrameHeaderSize + p.length;
  }
  const bool statement = command_ == Command::kStmtExecute || command_ == Command::kStmtBulkExecute;
  if (statement && cache_metadata() && first_result) BeginColumnFingerprint();
  BeginDefinitions(*count);
  return kFrameHeaderSize + p.length;
}

Result<size_t> ResponseTracker::OnLocalInfileRequest(const PacketStart& p) {
  if (command_ != Command::kQuery) return Malformed("LOCAL INFILE request outside COM_QUERY");
  auto payload = WholePayload(p.data, p.pos, p.length);
  if (!payload) return 0;
  phase_ = Phase::kInfileUpload;
  return kFrameHeaderSize + p.length;
}

Result<size_t> ResponseTracker::OnErr(const PacketStart& p) {
  if (p.length >= kMaxFramePayload) return Malformed("16 MiB ERR packet");
  auto payload = WholePayload(p.data, p.pos, p.length);
  if (!payload) return 0;
  // A progress report: forwarded, and the response goes on where it was.
  if ((caps_ & capability::kMariaDbProgress) && IsProgressReport(*payload)) return kFrameHeaderSize + p.length;
  ByteReader in(payload->subspan(1));
  auto err = ParseErrPacket(in);
  if (!err) return Malformed("bad ERR packet", err.error());
  error_ = std::move(*err);
  if (fingerprinting_) {  // definitions cut short: the client holds none of them
    fingerprinting_ = false;
    columns_fingerprint_.reset();
  }
  phase_ = Phase::kDone;
  return kFrameHeaderSize + p.length;
}

Result<size_t> ResponseTracker::OnResultEnd(const PacketStart& p) {
  auto payload = WholePayload(p.data, p.pos, p.length);
  if (!payload) return 0;
  auto status = RecordTerminator(p, *payload);
  if (!status) return Fail(std::move(status.error()));
  phase_ = (*status & status::kMoreResultsExist) != 0 ? Phase::kResultHead : Phase::kDone;
  return kFrameHeaderSize + p.length;
}

Result<size_t> ResponseTracker::OnFinalTerminator(const PacketStart& p) {
  auto payload = WholePayload(p.data, p.pos, p.length);
  if (!payload) return 0;
  auto status = RecordTerminator(p, *payload);
  if (!status) return Fail(std::move(status.error()));
  phase_ = Phase::kDone;
  return kFrameHeaderSize + p.length;
}

Result<uint16_t> ResponseTracker::RecordTerminator(const PacketStart& p, ByteView payload) {
  if (payload.empty() || payload.size() >= kMaxFramePayload) return Malformed("bad OK/EOF packet length");
  ByteReader in(payload.subspan(1));
  if (payload[0] == kEofHeader && !deprecate_eof()) {
    auto eof = ParseEofPacket(in);
    if (!eof) return Malformed("bad EOF packet", eof.error());
    status_flags_ = eof->status_flags;
    return status_flags_;
  }
  auto ok = ParseOkPacket(in, caps_);
  if (!ok) return Malformed("bad OK packet", ok.error());
  status_flags_ = ok->status_flags;
  // Bytes after the warnings are the CLIENT_SESSION_TRACK form of info and state.
  if (payload.size() > 5 + LenencIntSize(ok->affected_rows) + LenencIntSize(ok->last_insert_id)) {
    tracked_ok_offsets_.push_back(p.pos);
  }
  if (ok->session_state) session_changes_.push_back(std::move(*ok->session_state));
  return status_flags_;
}

// ---- Skipping ---------------------------------------------------------------

size_t ResponseTracker::BeginSkip(const PacketStart& p) {
  in_skip_ = true;
  skip_left_ = p.length;
  continued_ = p.length == kMaxFramePayload;
  return kFrameHeaderSize;
}


// Skips payload bytes and continuation frames of the packet being skipped.
// Returns the new position; in_skip_ stays true when the data ran out first.
size_t ResponseTracker::ContinueSkip(ByteView data, size_t pos) {
  while (true) {
    size_t n = std::min<size_t>(skip_left_, data.size() - pos);
    if (fingerprinting_) columns_fingerprint_ = FnvMix(*columns_fingerprint_, data.subspan(pos, n));
    pos += n;
    skip_left_ -= static_cast<uint32_t>(n);
    if (skip_left_ > 0) return pos;
    if (!continued_) break;
    // A frame of exactly 0xFFFFFF bytes: the packet goes on in the next one,
    // whose first byte means nothing on its own.
    if (data.size() - pos < kFrameHeaderSize) return pos;
    FrameHeader h = ParseFrameHeader(data.data() + pos);
    pos += kFrameHeaderSize;
    skip_left_ = h.payload_length;
    continued_ = h.payload_length == kMaxFramePayload;
  }
  in_skip_ = false;
  OnSkippedPacketEnd();
  return pos;
}

void ResponseTracker::OnSkippedPacketEnd() {
  if (phase_ == Phase::kDefinitions) {
    if (--definitions_left_ == 0) {
      fingerprinting_ = false;
      if (deprecate_eof()) {
        EndDefinitions();
      } else {
        phase_ = Phase::kDefinitionsEof;
      }
    }
  } else if (phase_ == Phase::kSinglePacket) {
    phase_ = Phase::kDone;
  }
}

void ResponseTracker::BeginColumnFingerprint() {
  columns_fingerprint_ = kFnvOffset;
  fingerprinting_ = true;
}

void ResponseTracker::BeginDefinitions(uint64_t count) {
  definitions_left_ = count;
  phase_ = Phase::kDefinitions;
}

// After a group of definitions (and its EOF, if any): COM_STMT_PREPARE goes on
// to its column definitions or is done; a result set goes on to its rows.
void ResponseTracker::EndDefinitions() {
  if (command_ != Command::kStmtPrepare) {
    phase_ = Phase::kRows;
    return;
  }
  if (pending_columns_ > 0) {
    if (cache_metadata()) BeginColumnFingerprint();
    BeginDefinitions(std::exchange(pending_columns_, 0));
  } else {
    phase_ = Phase::kDone;
  }
}

}  // namespace cutover::protocol
