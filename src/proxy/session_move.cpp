// ClientSession: moving a session to another server (see client_session.h).

#include <cerrno>

#include <asio/detached.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/sql_text.h"
#include "proxy/client_session.h"

namespace cutover::proxy {
namespace {

using namespace protocol;

// How long re-preparing a statement may wait for a metadata lock.
constexpr int kPrepareLockWaitS = 1;

// An idle backend connection that the server has not closed (nor written to:
// a server says why before it closes, e.g. wait_timeout). One syscall.
bool IsIdleAndOpen(BackendConnection& backend) { return backend.stream().IdleAndOpen(); }

awaitable<void> WarmBeside(std::shared_ptr<ClientSession> session, HostPort target) {
  auto st = co_await session->Warm(target);
  if (!st) spdlog::debug("session {}: no standby on {}: {}", session->id(), target.ToString(), st.error().message());
}

}  // namespace

void ClientSession::WarmIfPrepared() {
  const std::optional<HostPort> target = worker_.shared().PreparedTarget();
  if (!target) return;
  asio::co_spawn(worker_.context(), WarmBeside(shared_from_this(), *target), asio::detached);
}

awaitable<Result<ClientSession::Mirror>> ClientSession::OpenMirror(const HostPort& target) {
  Mirror mirror;
  mirror.schema = state_.schema();
  mirror.multi_statements = client_capabilities_ & capability::kMultiStatements;
  BackendLogin login{target,      user_,       stage1_, mirror.schema, character_set_, client_capabilities_,
                     attributes_, worker_.shared().config.connect_timeout, FindBackendTls(*worker_.shared().Tls(), target),
                     password_};
  auto opened = co_await BackendConnection::Open(login);
  if (!opened) co_return Fail(opened.error());
  mirror.backend = std::move(*opened);
  if (auto st = co_await SyncMirror(mirror); !st) co_return Fail(st.error());
  co_return std::move(mirror);
}

// The session may run commands while this awaits (Warm runs beside it): each
// part records what was sent, read from the state just before sending, so a
// later SyncMirror replays whatever changed meanwhile.
awaitable<Status> ClientSession::SyncMirror(Mirror& mirror) {
  BackendConnection& backend = *mirror.backend;
  const std::string schema = state_.schema();
  if (schema != mirror.schema) {
    if (schema.empty()) co_return Fail(Error::Precondition("the session no longer has a default schema"));
    const std::string use = "USE " + QuoteIdentifier(schema);
    if (auto st = co_await backend.Query(use); !st) co_return Fail(st.error().WithContext("restoring the schema"));
    mirror.schema = schema;
  }
  if (state_.variables() != mirror.variables) {  // compared in place: thousands of sessions sync inside the pause
    const std::map<std::string, std::string> variables = state_.variables();
    for (const auto& [name, value] : mirror.variables) {
      if (!variables.contains(name)) co_return Fail(Error::Precondition("a session variable was reset"));
    }
    const std::string set = state_.RestoreVariablesSql(backend.status_flags() & status::kNoBackslashEscapes);
    if (!set.empty()) {
      if (auto st = co_await backend.Query(set); !st) {
        co_return Fail(st.error().WithContext("restoring session variables"));
      }
    }
    mirror.variables = variables;
  }
  const bool multi_statements = state_.multi_statements();
  if (multi_statements != mirror.multi_statements) {
    if (auto st = co_await backend.SetMultiStatements(multi_statements); !st) co_return Fail(st.error());
    mirror.multi_statements = multi_statements;
  }
  std::vector<std::pair<uint32_t, std::string>> missing;
  for (const auto& [client_id, statement] : state_.statements()) {
    if (!mirror.statements.contains(client_id)) missing.emplace_back(client_id, statement.sql);
  }
  if (missing.empty()) co_return Status{};
  // Preparing opens the statement's tables, so it waits for their metadata
  // locks (a LOCK TABLES, an ALTER the replica applies), by default for a
  // year: wait a second at most, then give the session its own value back.
  if (auto st = co_await backend.Query(fmt::format("SET SESSION lock_wait_timeout = {}", kPrepareLockWaitS)); !st) {
    co_return Fail(st.error());
  }
  for (const auto& [client_id, sql] : missing) {
    auto prepared = co_await backend.Prepare(sql);
    if (!prepared) {
      co_return Fail(prepared.error().WithContext(fmt::format("re-preparing statement {}", client_id)));
    }
    mirror.statements[client_id] = prepared->statement_id;
    mirror.columns[client_id] = backend.tracker().columns_fingerprint();
  }
  const auto own = state_.variables().find("lock_wait_timeout");
  const std::string restore = own == state_.variables().end()
                                  ? std::string("SET SESSION lock_wait_timeout = DEFAULT")
                                  : "SET SESSION lock_wait_timeout = " + own->second;
  if (auto st = co_await backend.Query(restore); !st) co_return Fail(st.error());
  co_return Status{};
}

awaitable<Status> ClientSession::Warm(HostPort target) {
  if (warming_ || pins() != 0 || !has_backend() || phase_ == Phase::kClosed) {
    co_return Fail(Error::Precondition("the session cannot move or is warming already"));
  }
  if (standby_ && standby_->backend->address() == target) co_return Status{};
  warming_ = true;
  auto mirror = co_await OpenMirror(target);
  warming_ = false;
  if (!mirror) co_return Fail(mirror.error());
  // The session closed, or the move was called off or done, while it warmed.
  if (phase_ == Phase::kClosed || worker_.shared().PreparedTarget() != target) co_return Status{};
  standby_ = std::move(*mirror);
  co_return Status{};
}

awaitable<Status> ClientSession::PrepareMove(HostPort target) {
  moving_ = true;
  std::optional<Mirror> mirror;
  if (standby_ && standby_->backend->address() == target && IsIdleAndOpen(*standby_->backend)) {
    mirror = std::move(standby_);
    if (auto st = co_await SyncMirror(*mirror); !st) mirror.reset();  // a new connection, then
  }
  standby_.reset();
  if (!mirror) {
    auto opened = co_await OpenMirror(target);
    if (!opened) co_return Fail(opened.error());
    mirror = std::move(*opened);
  }
  pending_ = std::move(mirror);
  co_return Status{};
}

void ClientSession::CommitMove() {
  worker_.Retire(std::move(backend_));  // closed after the resume
  backend_ = std::move(pending_->backend);
  for (const auto& [client_id, backend_id] : pending_->statements) {
    if (PreparedStatement* s = state_.FindStatement(client_id)) {
      s->backend_id = backend_id;
      s->backend_has_types = false;
      // The new server last sent the columns of its prepare: unless the
      // client holds the same, the first execute must prove them (see
      // RelayResponse).
      const auto columns = pending_->columns.find(client_id);
      s->columns_unconfirmed = columns != pending_->columns.end() && columns->second != s->client_columns;
    }
  }
  pending_.reset();
  standby_.reset();
  status_flags_ = backend_->status_flags();
  moving_ = false;
  worker_.WakeGate();
}

void ClientSession::AbortMove() {
  if (pending_ && worker_.shared().PreparedTarget() == pending_->backend->address()) standby_ = std::move(pending_);
  pending_.reset();
  moving_ = false;
  worker_.WakeGate();
}

}  // namespace cutover::proxy
