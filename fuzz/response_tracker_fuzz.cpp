// ResponseTracker on arbitrary server byte streams after arbitrary commands.
//
// Input: byte 0 picks capabilities (bit 0: CLIENT_DEPRECATE_EOF, bit 1:
// CLIENT_SESSION_TRACK, bit 2: no CLIENT_PROTOCOL_41), byte 1 seeds how the
// stream is cut into reads, byte 2 (low 2 bits, plus one) is how many
// commands follow, then one byte per command; the rest is what the server
// sent. The commands run one after another on the same connection.
//
// The stream is driven twice, whole and cut into reads of 1 to 64 bytes the
// way the proxy gets them, and both runs must agree on everything a proxy
// acts on. Every Feed must consume at most what it was given, and the offsets
// it reports must lie inside what it consumed.
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "protocol/response_tracker.h"

using namespace cutover;
using namespace cutover::protocol;

namespace {

constexpr Capabilities kBaseCaps =
    capability::kLongPassword | capability::kLongFlag | capability::kLocalFiles | capability::kProtocol41 |
    capability::kTransactions | capability::kSecureConnection | capability::kMultiStatements |
    capability::kMultiResults | capability::kPsMultiResults | capability::kPluginAuth;

struct CommandOutcome {
  bool done = false;
  uint16_t status = 0;
  uint16_t error = 0;  // errno of the ERR that ended the response, 0 for none
  size_t session_changes = 0;
  int infile_requests = 0;
  std::vector<size_t> statement_id_pos;  // positions in the stream
  std::vector<size_t> tracked_ok_pos;    // positions in the stream
  bool operator==(const CommandOutcome&) const = default;
};

struct Outcome {
  bool failed = false;  // Feed returned an error
  size_t consumed = 0;
  std::vector<CommandOutcome> commands;
};

// Feeds `stream` in reads ending at `cuts` (increasing, the last one
// stream.size()), keeping unconsumed bytes for the next Feed, as the proxy does.
Outcome Drive(Capabilities caps, const std::vector<Command>& commands, ByteView stream,
              const std::vector<size_t>& cuts) {
  Outcome out;
  ResponseTracker t(caps);
  size_t next_command = 0;
  auto start_next = [&]() {
    t.Start(commands[next_command++]);
    out.commands.emplace_back();
  };
  start_next();
  Bytes buf;
  size_t arrived = 0;
  for (size_t cut : cuts) {
    buf.insert(buf.end(), stream.begin() + arrived, stream.begin() + cut);
    arrived = cut;
    while (true) {
      if (t.done()) {
        CommandOutcome& c = out.commands.back();
        c.done = true;
        c.status = t.status_flags();
        c.error = t.error() ? t.error()->error_code : 0;
        c.session_changes = t.session_changes().size();
        if (next_command == commands.size()) return out;
        start_next();
        continue;
      }
      if (t.awaiting_local_infile()) {
        ++out.commands.back().infile_requests;
        t.LocalInfileSent();
        continue;
      }
      if (buf.empty()) break;
      auto n = t.Feed(buf);
      if (!n) {
        FUZZ_CHECK(n.error().code() == ErrorCode::kMalformed);
        out.failed = true;
        return out;
      }
      FUZZ_CHECK(*n <= buf.size());
      CommandOutcome& c = out.commands.back();
      if (auto id = t.prepare_id_offset()) {
        FUZZ_CHECK(*id + 4 <= *n);
        FUZZ_CHECK(t.prepare_ok() && LoadU32(buf.data() + *id) == t.prepare_ok()->statement_id);
        c.statement_id_pos.push_back(out.consumed + *id);
      }
      for (size_t ok : t.tracked_ok_offsets()) {
        FUZZ_CHECK(ok + 5 <= *n);  // a frame header and the OK's header byte
        c.tracked_ok_pos.push_back(out.consumed + ok);
      }
      out.consumed += *n;
      buf.erase(buf.begin(), buf.begin() + *n);
      if (*n == 0) break;  // needs more bytes
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  Capabilities caps = kBaseCaps;
  if (data[0] & 1) caps |= capability::kDeprecateEof;
  if (data[0] & 2) caps |= capability::kSessionTrack;
  if (data[0] & 4) caps &= ~capability::kProtocol41;
  uint32_t seed = data[1];
  const size_t command_count = (data[2] & 3) + 1;
  if (size < 3 + command_count) return 0;
  std::vector<Command> commands;
  for (size_t i = 0; i < command_count; ++i) commands.push_back(Command(data[3 + i]));
  const ByteView stream(data + 3 + command_count, size - 3 - command_count);

  const Outcome whole = Drive(caps, commands, stream, {stream.size()});

  std::vector<size_t> cuts;
  size_t at = 0;
  while (at < stream.size()) {
    seed = seed * 1103515245u + 12345u;
    at = std::min(stream.size(), at + 1 + (seed >> 16) % 64);
    cuts.push_back(at);
  }
  if (cuts.empty()) cuts.push_back(0);
  const Outcome pieces = Drive(caps, commands, stream, cuts);

  FUZZ_CHECK(whole.consumed <= stream.size() && pieces.consumed <= stream.size());
  FUZZ_CHECK(whole.failed == pieces.failed);
  if (!whole.failed) {
    FUZZ_CHECK(whole.consumed == pieces.consumed);
    FUZZ_CHECK(whole.commands == pieces.commands);
  }
  return 0;
}
