#include "proxy/admin_api.h"

#include <map>

#include <asio/detached.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "proxy/http_request.h"
#include "proxy/move_lease.h"

namespace cutover::proxy {
namespace {

using nlohmann::json;
constexpr HttpLimits kLimits{};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

HttpResponse JsonResponse(int status, const json& body) { return {status, body.dump(2) + "\n"}; }
HttpResponse ErrorResponse(int status, std::string_view message) {
  return JsonResponse(status, json{{"error", message}});
}

json SessionJson(const SessionInfo& s) {
  return json{{"id", s.id}, {"worker", s.worker}, {"user", s.user}, {"client", s.client},
              {"backend", s.backend}, {"in_transaction", s.in_transaction}, {"busy", s.busy},
              {"busy_reason", s.busy_reason}, {"pinned", s.pins != 0}, {"pin_reasons", s.pin_reasons},
              {"backend_connection_id", s.backend_connection_id}, {"idle_in_transaction", s.idle_in_transaction},
              {"standby", s.standby}};
}

json StatusJson(const ProxyStatus& st) {
  size_t in_trans = 0, pinned = 0, busy = 0, standbys = 0;
  json sessions = json::array();
  for (const auto& s : st.sessions) {
    standbys += s.standby;
    in_trans += s.in_transaction;
    pinned += s.pins != 0;
    busy += s.busy;
    sessions.push_back(SessionJson(s));
  }
  return json{{"primary", st.primary.ToString()},
              {"server_version", st.server_version},
              {"paused", st.paused},
              {"paused_ms", st.paused_for.count()},
              {"prepared", st.prepared ? json(st.prepared->ToString()) : json(nullptr)},
              {"standbys", standbys},
              {"session_count", st.sessions.size()},
              {"in_transaction", in_trans},
              {"pinned", pinned},
              {"busy", busy},
              {"sessions", sessions},
              {"counters", {{"sessions_accepted", st.totals.sessions_accepted},
                            {"logins_failed", st.totals.logins_failed},
                            {"commands", st.totals.commands},
                            {"backend_errors", st.totals.backend_errors},
                            {"tls_sessions", st.totals.tls_sessions},
                            {"tls_handshakes_failed", st.totals.tls_handshakes_failed},
                            {"compressed_sessions", st.totals.compressed_sessions}}}};
}

std::string MetricsText(const ProxyStatus& st) {
  size_t in_trans = 0, pinned = 0;
  for (const auto& s : st.sessions) {
    in_trans += s.in_transaction;
    pinned += s.pins != 0;
  }
  return fmt::format(
      "# TYPE cutover_sessions gauge\ncutover_sessions {}\n"
      "# TYPE cutover_sessions_in_transaction gauge\ncutover_sessions_in_transaction {}\n"
      "# TYPE cutover_sessions_pinned gauge\ncutover_sessions_pinned {}\n"
      "# TYPE cutover_paused gauge\ncutover_paused {}\n"
      "# TYPE cutover_sessions_accepted_total counter\ncutover_sessions_accepted_total {}\n"
      "# TYPE cutover_logins_failed_total counter\ncutover_logins_failed_total {}\n"
      "# TYPE cutover_commands_total counter\ncutover_commands_total {}\n"
      "# TYPE cutover_backend_errors_total counter\ncutover_backend_errors_total {}\n"
      "# TYPE cutover_tls_sessions_total counter\ncutover_tls_sessions_total {}\n"
      "# TYPE cutover_tls_handshakes_failed_total counter\ncutover_tls_handshakes_failed_total {}\n"
      "# TYPE cutover_compressed_sessions_total counter\ncutover_compressed_sessions_total {}\n",
      st.sessions.size(), in_trans, pinned, st.paused ? 1 : 0, st.totals.sessions_accepted, st.totals.logins_failed,
      st.totals.commands, st.totals.backend_errors, st.totals.tls_sessions, st.totals.tls_handshakes_failed,
      st.totals.compressed_sessions);
}

int StatusFor(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kPrecondition: case ErrorCode::kCancelled: return 409;
    case ErrorCode::kMalformed: case ErrorCode::kConfig: return 400;
    default: return 500;
  }
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Internal Server Error";
  }
}

// A string member that must be one of two words; `fallback` when absent.
Result<std::string> Choice(const json& body, const char* name, const char* fallback, const char* other) {
  if (!body.contains(name)) return std::string(fallback);
  const json& v = body[name];
  if (!v.is_string() || (v != fallback && v != other)) {
    return Fail(Error::Malformed(fmt::format("{} must be \"{}\" or \"{}\"", name, fallback, other)));
  }
  return v.get<std::string>();
}

awaitable<HttpResponse> HandlePause(ProxyServer& server, const json& body) {
  int64_t timeout_ms = server.config().drain_timeout.count();
  if (body.contains("drain_timeout_ms")) {
    const json& v = body["drain_timeout_ms"];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > server.config().max_pause.count()) {
      co_return ErrorResponse(400, fmt::format("drain_timeout_ms must be a whole number from 0 to max_pause_ms ({})",
                                               server.config().max_pause.count()));
    }
    timeout_ms = v.get<int64_t>();
  }
  const std::chrono::milliseconds timeout(timeout_ms);
  std::optional<MoveLease> lease;
  if (body.contains("move")) {
    auto parsed = ParseMoveLease(body["move"]);
    if (!parsed) co_return ErrorResponse(400, parsed.error().message());
    lease = std::move(*parsed);
  }
  PauseResult r = co_await server.Pause(timeout, std::move(lease));
  json busy = json::array();
  for (const auto& s : r.busy) busy.push_back(SessionJson(s));
  co_return JsonResponse(200, json{{"paused", true}, {"drained", r.drained}, {"waited_us", r.waited.count()},
                                   {"busy", busy}});
}

awaitable<HttpResponse> HandlePrepare(ProxyServer& server, const json& body) {
  const auto target = ParseHostPort(body, "prepare");
  if (!target) co_return ErrorResponse(400, target.error().message());
  const PrepareResult r = co_await server.Prepare(*target);
  co_return JsonResponse(200, json{{"target", r.target.ToString()}, {"warmed", r.warmed},
                                   {"failed", r.failures.size()}, {"failures", r.failures},
                                   {"took_us", r.took.count()}});
}

awaitable<HttpResponse> HandleRepoint(ProxyServer& server, const json& body) {
  const auto parsed = ParseHostPort(body, "repoint");
  if (!parsed) co_return ErrorResponse(400, parsed.error().message());
  const auto pinned = Choice(body, "pinned", "refuse", "close");
  if (!pinned) co_return ErrorResponse(400, pinned.error().message());
  const auto open = Choice(body, "open_transactions", "refuse", "close");
  if (!open) co_return ErrorResponse(400, open.error().message());
  const HostPort target = *parsed;
  const PinnedPolicy policy = *pinned == "close" ? PinnedPolicy::kClose : PinnedPolicy::kRefuse;
  const bool close_open = *open == "close";
  auto r = co_await server.Repoint(target, policy, close_open);
  if (!r) co_return ErrorResponse(StatusFor(r.error()), r.error().message());
  json closed = json::array();
  for (const auto& s : r->closed) closed.push_back(SessionJson(s));
  co_return JsonResponse(200, json{{"from", r->from.ToString()}, {"to", r->to.ToString()}, {"moved", r->moved},
                                   {"closed", closed}, {"took_us", r->took.count()}});
}

// Every co_await stands alone in its statement (scripts/check-coroutines):
// `co_return HttpResponse{200, MetricsText(co_await ...)}` made g++ 12 free
// the response twice and crashed the proxy on every GET /metrics.
awaitable<HttpResponse> Dispatch(ProxyServer& server, const HttpRequest& req) {
  static const std::map<std::string, std::string, std::less<>> kEndpoints = {
      {"/status", "GET"}, {"/metrics", "GET"}, {"/pause", "POST"}, {"/resume", "POST"},
      {"/prepare", "POST"}, {"/unprepare", "POST"}, {"/repoint", "POST"}, {"/tls/reload", "POST"}};
  const auto endpoint = kEndpoints.find(req.path);
  if (endpoint == kEndpoints.end()) co_return ErrorResponse(404, fmt::format("no such endpoint: {}", req.path));
  if (endpoint->second != req.method) {
    co_return ErrorResponse(405, fmt::format("{} takes {}, not {}", req.path, endpoint->second, req.method));
  }
  const json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) co_return ErrorResponse(400, "the body is not a JSON object");
  if (req.path == "/status") {
    const ProxyStatus status = co_await server.CollectStatus();
    co_return JsonResponse(200, StatusJson(status));
  }
  if (req.path == "/metrics") {
    const ProxyStatus status = co_await server.CollectStatus();
    co_return HttpResponse{200, MetricsText(status), "text/plain; version=0.0.4"};
  }
  if (req.path == "/pause") co_return co_await HandlePause(server, body);
  if (req.path == "/resume") {
    co_await server.Resume();
    co_return JsonResponse(200, json{{"paused", false}});
  }
  if (req.path == "/prepare") co_return co_await HandlePrepare(server, body);
  if (req.path == "/tls/reload") {
    auto reloaded = server.ReloadTls();
    if (!reloaded) co_return ErrorResponse(400, reloaded.error().message());
    co_return JsonResponse(200, json{{"reloaded", true}, {"certificate", *reloaded}});
  }
  if (req.path == "/unprepare") {
    co_await server.Unprepare();
    co_return JsonResponse(200, json{{"prepared", false}});
  }
  co_return co_await HandleRepoint(server, body);
}

}  // namespace

Status AdminApi::Start() {
  auto acceptor = Listen(server_.control(), server_.config().admin_listen, "proxy.admin_listen");
  if (!acceptor) return Fail(acceptor.error());
  acceptor_ = std::move(*acceptor);
  port_ = acceptor_->local_endpoint().port();
  asio::co_spawn(server_.control(), AcceptLoop(), asio::detached);
  return {};
}

awaitable<void> AdminApi::AcceptLoop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(server_.control(), Serve(std::move(socket)), asio::detached);
  }
}

// Reads one request (a stalled client is dropped after handshake_timeout_ms),
// answers it and closes the connection. Each connection is its own coroutine,
// so a slow client never holds up another.
awaitable<void> AdminApi::Serve(tcp::socket socket) {
  Deadline deadline(socket, server_.config().handshake_timeout);
  std::string data;
  HttpParse parsed = ParseHttpRequest(data, kLimits);
  char chunk[4096];
  while (parsed.kind == HttpParse::Kind::kIncomplete) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec) co_return;  // closed by the client or by the deadline
    data.append(chunk, n);
    parsed = ParseHttpRequest(data, kLimits);
  }
  deadline.Disarm();
  HttpResponse resp;
  if (parsed.kind == HttpParse::Kind::kRefused) {
    resp = ErrorResponse(parsed.status, parsed.reason);
  } else if (parsed.request.authorization != "Bearer " + server_.config().admin_token) {
    resp = ErrorResponse(401, "missing or wrong admin token: send 'Authorization: Bearer <proxy.admin_token>'");
  } else {
    resp = co_await Dispatch(server_, parsed.request);
  }
  const std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                                      resp.status, Reason(resp.status), resp.content_type, resp.body.size(), resp.body);
  Deadline write_deadline(socket, server_.config().handshake_timeout);
  co_await asio::async_write(socket, asio::buffer(out), kNoThrow);
  write_deadline.Disarm();
  asio::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace cutover::proxy
