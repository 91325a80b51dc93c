// ClientSession: COM_STMT_BULK_EXECUTE, MariaDB's array binding (see
// client_session.h), and packets the proxy rewrites before forwarding.
#include "protocol/statement.h"
#include "proxy/client_session.h"

namespace cutover::proxy {

using namespace protocol;

// Like HandleExecute: remembers the parameter types the client sends (the
// same 2 bytes per parameter as COM_STMT_EXECUTE's, which the server keeps
// for both commands), and sends them again to a server that has not seen
// them because the session moved since they were bound.
awaitable<Status> ClientSession::HandleBulkExecute(PreparedStatement& statement) {
  if (statement.num_params == 0) co_return co_await Forward(Command::kStmtBulkExecute);
  // A bulk execute of 16 MiB or more streams through; its head, types
  // included, lies within its first frame.
  const size_t head_size = kFrameHeaderSize + kBulkExecuteHeadLength + 2 * size_t(statement.num_params);
  if (packet_size_ == 0) {
    if (auto st = co_await ReadAtLeast(client_, client_buffer_, head_size, peer_); !st) {
      co_return Fail(Error::Cancelled(st.error().message()));
    }
  }
  const size_t available = packet_size_ ? packet_size_ : client_buffer_.size();
  const ByteView payload = client_buffer_.readable().subspan(kFrameHeaderSize, available - kFrameHeaderSize);
  auto head = ParseStmtBulkExecuteHead(payload, statement.num_params);
  if (head && (head->flags & kBulkSendTypesToServer)) {
    const auto types = payload.subspan(head->types_offset, 2 * size_t(statement.num_params));
    statement.param_types.assign(types.begin(), types.end());
    statement.backend_has_types = true;
  } else if (head && !statement.backend_has_types && !statement.param_types.empty() && packet_size_ > 0) {
    // A streamed one (packet_size_ == 0) is not rebuilt: the server refuses
    // it with its own error (README: limits).
    const Bytes rebuilt = AddBulkExecuteTypes(payload, statement.param_types);
    statement.backend_has_types = true;
    co_return co_await ForwardRebuilt(rebuilt, Command::kStmtBulkExecute);
  }
  co_return co_await Forward(Command::kStmtBulkExecute);
}

awaitable<Status> ClientSession::ForwardRebuilt(ByteView payload, Command command) {
  client_buffer_.Consume(packet_size_);
  if (auto st = co_await WritePacket(backend_->stream(), payload, 0, backend_->peer()); !st) {
    co_return co_await BackendLost(st.error(), false);
  }
  if (auto st = co_await RelayResponse(command); !st) co_return st;
  const bool ask_server = TakeResponse();
  co_return co_await AfterResponse(ask_server);
}

}  // namespace cutover::proxy
