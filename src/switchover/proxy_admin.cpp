#include "switchover/proxy_admin.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace cutover::switchover {
namespace {

// Closes the socket when it goes out of scope.
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

Result<int> ConnectTcp(const std::string& host, uint16_t port, std::chrono::milliseconds timeout, Socket& sock) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    return Fail(Error::Io(fmt::format("proxy admin {}:{}: {}", host, port, gai_strerror(rc))));
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    sock.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (sock.fd < 0) continue;
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(sock.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(sock.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(sock.fd, a->ai_addr, a->ai_addrlen) == 0) {
      ::freeaddrinfo(found);
      return sock.fd;
    }
    last_error = std::strerror(errno);
    ::close(sock.fd);
    sock.fd = -1;
  }
  ::freeaddrinfo(found);
  return Fail(Error::Io(fmt::format("proxy admin {}:{}: cannot connect: {}", host, port, last_error)));
}

}  // namespace

Result<nlohmann::json> ProxyAdmin::Call(const std::string& method, const std::string& path, const nlohmann::json& body,
                                        std::chrono::milliseconds timeout) {
  Socket sock;
  auto fd = ConnectTcp(address_.host, address_.port, timeout, sock);
  if (!fd) return Fail(fd.error());
  const std::string payload = body.is_null() ? "" : body.dump();
  const std::string request = fmt::format(
      "{} {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
      method, path, address_.host, address_.token, payload.size(), payload);
  if (::send(*fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    return Fail(Error::Io(fmt::format("proxy admin {}: cannot send {} {}", address_.ToString(), method, path)));
  }
  std::string response;
  char buf[8192];
  while (true) {
    const ssize_t n = ::recv(*fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      return Fail(Error::Io(fmt::format("proxy admin {}: no complete answer to {} {}: {}", address_.ToString(),
                                        method, path, std::strerror(errno))));
    }
    response.append(buf, static_cast<size_t>(n));
  }
  const size_t body_start = response.find("\r\n\r\n");
  if (response.size() < 12 || body_start == std::string::npos) {
    return Fail(Error::Io(fmt::format("proxy admin {}: malformed answer to {} {}", address_.ToString(), method, path)));
  }
  const int status = std::atoi(response.c_str() + 9);
  auto json = nlohmann::json::parse(response.substr(body_start + 4), nullptr, false);
  if (status != 200) {
    const std::string reason =
        !json.is_discarded() && json.contains("error") ? json["error"].get<std::string>() : response.substr(0, 40);
    return Fail(Error::Precondition(
        fmt::format("proxy {}: {} {} answered {}: {}", address_.ToString(), method, path, status, reason)));
  }
  if (json.is_discarded()) {
    return Fail(Error::Io(fmt::format("proxy admin {}: the answer to {} {} is not JSON", address_.ToString(), method,
                                      path)));
  }
  return json;
}

Result<nlohmann::json> ProxyAdmin::Status() { return Call("GET", "/status", nullptr, std::chrono::seconds(5)); }

Result<nlohmann::json> ProxyAdmin::Pause(std::chrono::milliseconds drain_timeout, const nlohmann::json& move) {
  nlohmann::json body{{"drain_timeout_ms", drain_timeout.count()}};
  if (!move.is_null()) body["move"] = move;
  return Call("POST", "/pause", body, drain_timeout + std::chrono::seconds(5));
}

Result<nlohmann::json> ProxyAdmin::Resume() { return Call("POST", "/resume", nlohmann::json::object(), std::chrono::seconds(5)); }

Result<nlohmann::json> ProxyAdmin::Prepare(const std::string& host, uint16_t port) {
  // Thousands of logins, 32 at a time per proxy thread: seconds, not minutes.
  return Call("POST", "/prepare", {{"host", host}, {"port", port}}, std::chrono::seconds(120));
}

Result<nlohmann::json> ProxyAdmin::Unprepare() {
  return Call("POST", "/unprepare", nlohmann::json::object(), std::chrono::seconds(10));
}

Result<nlohmann::json> ProxyAdmin::Repoint(const std::string& host, uint16_t port, bool close_pinned,
                                           bool close_open_transactions) {
  return Call("POST", "/repoint",
              {{"host", host},
               {"port", port},
               {"pinned", close_pinned ? "close" : "refuse"},
               {"open_transactions", close_open_transactions ? "close" : "refuse"}},
              std::chrono::seconds(30));
}

}  // namespace cutover::switchover
