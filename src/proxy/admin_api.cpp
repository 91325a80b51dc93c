#include "proxy/admin_api.h"

#include <asio/detached.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace cutover::proxy {
namespace {

using nlohmann::json;
constexpr size_t kMaxRequest = 64 * 1024;

struct HttpRequest {
  std::string method;
  std::string path;
  std::string authorization;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

HttpResponse JsonResponse(int status, const json& body) { return {status, body.dump(2) + "\n"}; }
HttpResponse ErrorResponse(int status, std::string_view message) {
  return JsonResponse(status, json{{"error", message}});
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses the request head; returns the body length it announces.
Result<size_t> ParseHead(std::string_view head, HttpRequest& req) {
  const size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) return Fail(Error::Malformed("bad request line"));
  req.method = line.substr(0, sp1);
  req.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t length = 0;
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    const size_t end = head.find("\r\n", pos);
    const std::string_view h = head.substr(pos, end - pos);
    pos = end == std::string_view::npos ? head.size() : end + 2;
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = Lower(std::string(h.substr(0, colon)));
    std::string value(h.substr(colon + 1));
    value.erase(0, value.find_first_not_of(' '));
    if (name == "content-length") {
      length = std::strtoul(value.c_str(), nullptr, 10);
      if (length > kMaxRequest) return Fail(Error::Malformed("body too large"));
    } else if (name == "authorization") {
      req.authorization = value;
    }
  }
  return length;
}

json SessionJson(const SessionInfo& s) {
  return json{{"id", s.id}, {"worker", s.worker}, {"user", s.user}, {"client", s.client},
              {"backend", s.backend}, {"in_transaction", s.in_transaction}, {"busy", s.busy},
              {"busy_reason", s.busy_reason}, {"pinned", s.pins != 0}, {"pin_reasons", s.pin_reasons},
              {"backend_connection_id", s.backend_connection_id}, {"idle_in_transaction", s.idle_in_transaction}};
}

json StatusJson(const ProxyStatus& st) {
  size_t in_trans = 0, pinned = 0, busy = 0;
  json sessions = json::array();
  for (const auto& s : st.sessions) {
    in_trans += s.in_transaction;
    pinned += s.pins != 0;
    busy += s.busy;
    sessions.push_back(SessionJson(s));
  }
  return json{{"primary", st.primary.ToString()},
              {"server_version", st.server_version},
              {"paused", st.paused},
              {"paused_ms", st.paused_for.count()},
              {"session_count", st.sessions.size()},
              {"in_transaction", in_trans},
              {"pinned", pinned},
              {"busy", busy},
              {"sessions", sessions},
              {"counters", {{"sessions_accepted", st.totals.sessions_accepted},
                            {"logins_failed", st.totals.logins_failed},
                            {"commands", st.totals.commands},
                            {"backend_errors", st.totals.backend_errors}}}};
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
      "# TYPE cutover_backend_errors_total counter\ncutover_backend_errors_total {}\n",
      st.sessions.size(), in_trans, pinned, st.paused ? 1 : 0, st.totals.sessions_accepted, st.totals.logins_failed,
      st.totals.commands, st.totals.backend_errors);
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
    case 409: return "Conflict";
    default: return "Internal Server Error";
  }
}

awaitable<HttpResponse> Dispatch(ProxyServer& server, const HttpRequest& req) {
  const json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) co_return ErrorResponse(400, "the body is not a JSON object");
  if (req.method == "GET" && req.path == "/status") co_return JsonResponse(200, StatusJson(co_await server.CollectStatus()));
  if (req.method == "GET" && req.path == "/metrics") {
    co_return HttpResponse{200, MetricsText(co_await server.CollectStatus()), "text/plain; version=0.0.4"};
  }
  if (req.method == "POST" && req.path == "/pause") {
    const auto timeout = std::chrono::milliseconds(
        body.value("drain_timeout_ms", static_cast<int64_t>(server.config().drain_timeout.count())));
    PauseResult r = co_await server.Pause(timeout);
    json busy = json::array();
    for (const auto& s : r.busy) busy.push_back(SessionJson(s));
    co_return JsonResponse(200, json{{"paused", true}, {"drained", r.drained}, {"waited_us", r.waited.count()},
                                     {"busy", busy}});
  }
  if (req.method == "POST" && req.path == "/resume") {
    co_await server.Resume();
    co_return JsonResponse(200, json{{"paused", false}});
  }
  if (req.method == "POST" && req.path == "/repoint") {
    if (!body.contains("host") || !body["host"].is_string() || !body.contains("port") ||
        !body["port"].is_number_unsigned() || body["port"].get<uint64_t>() > 65535) {
      co_return ErrorResponse(400, "repoint needs {\"host\": string, \"port\": number}");
    }
    const std::string pinned = body.value("pinned", "refuse");
    if (pinned != "refuse" && pinned != "close") co_return ErrorResponse(400, "pinned must be \"refuse\" or \"close\"");
    const std::string open = body.value("open_transactions", "refuse");
    if (open != "refuse" && open != "close") {
      co_return ErrorResponse(400, "open_transactions must be \"refuse\" or \"close\"");
    }
    // A named argument: g++ 12 destroys a class-type temporary passed by value
    // to a coroutine inside co_await twice.
    const HostPort target{body["host"].get<std::string>(), body["port"].get<uint16_t>()};
    auto r = co_await server.Repoint(target, pinned == "close" ? PinnedPolicy::kClose : PinnedPolicy::kRefuse,
                                     open == "close");
    if (!r) co_return ErrorResponse(StatusFor(r.error()), r.error().message());
    json closed = json::array();
    for (const auto& s : r->closed) closed.push_back(SessionJson(s));
    co_return JsonResponse(200, json{{"from", r->from.ToString()}, {"to", r->to.ToString()}, {"moved", r->moved},
                                     {"closed", closed}, {"took_us", r->took.count()}});
  }
  co_return ErrorResponse(404, fmt::format("no such endpoint: {} {}", req.method, req.path));
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

awaitable<void> AdminApi::Serve(tcp::socket socket) {
  Deadline deadline(socket, std::chrono::milliseconds(10'000));
  std::string data;
  size_t head_end = std::string::npos;
  HttpRequest req;
  HttpResponse resp;
  char chunk[4096];
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos && data.size() < kMaxRequest) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec) co_return;
    data.append(chunk, n);
  }
  auto length = head_end == std::string::npos ? Fail(Error::Malformed("request head too large"))
                                              : ParseHead(std::string_view(data).substr(0, head_end), req);
  if (length) {
    while (data.size() < head_end + 4 + *length) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kNoThrow);
      if (ec) co_return;
      data.append(chunk, n);
    }
    req.body = data.substr(head_end + 4, *length);
  }
  deadline.Disarm();
  if (!length) {
    resp = ErrorResponse(400, length.error().message());
  } else if (req.authorization != "Bearer " + server_.config().admin_token) {
    resp = ErrorResponse(401, "missing or wrong admin token: send 'Authorization: Bearer <proxy.admin_token>'");
  } else {
    resp = co_await Dispatch(server_, req);
  }
  const std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                                      resp.status, Reason(resp.status), resp.content_type, resp.body.size(), resp.body);
  co_await asio::async_write(socket, asio::buffer(out), kNoThrow);
  asio::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace cutover::proxy
