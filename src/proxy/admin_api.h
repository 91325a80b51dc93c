// The proxy's admin HTTP API, on its own port (loopback by default). Every
// request needs "Authorization: Bearer <admin_token>".
//   GET  /status    primary, pause state, sessions, counters (JSON)
//   GET  /metrics   the same counters in Prometheus text format
//   POST /pause     {"drain_timeout_ms": 5000} -> drained or the busy sessions
//   POST /resume
//   POST /repoint   {"host": "127.0.0.1", "port": 3307, "pinned": "refuse"|"close"}
// One request per connection; responses are JSON with an "error" member on
// failure (400 bad request, 401 token, 404, 405 method, 409 precondition,
// 413/431 too large, 500, 501 chunked body, 505 HTTP version).
// Thread-safety: runs on the ProxyServer's control loop.
#pragma once

#include <memory>

#include "proxy/asio_util.h"
#include "proxy/proxy_server.h"

namespace cutover::proxy {

class AdminApi {
 public:
  explicit AdminApi(ProxyServer& server) : server_(server) {}

  // Binds config().admin_listen and starts serving on the control loop.
  [[nodiscard]] Status Start();
  uint16_t port() const { return port_; }

 private:
  awaitable<void> AcceptLoop();
  awaitable<void> Serve(tcp::socket socket);

  ProxyServer& server_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  uint16_t port_ = 0;
};

}  // namespace cutover::proxy
