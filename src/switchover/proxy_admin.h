// A blocking client for a cutover proxy's admin API (HTTP/1.1, bearer token):
// what the switchover uses to pause, re-point and resume client sessions.
// Thread-safety: none needed; each call opens its own connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace cutover::switchover {

struct ProxyAddress {
  std::string host;
  uint16_t port = 0;
  std::string token;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

class ProxyAdmin {
 public:
  explicit ProxyAdmin(ProxyAddress address) : address_(std::move(address)) {}

  // GET /status.
  [[nodiscard]] Result<nlohmann::json> Status();
  // POST /pause; the reply says whether every session drained. `move`, when
  // not null, is the move's lease (proxy/move_lease.h, as JSON): the proxy
  // ends the move itself when no further call renews it in time.
  [[nodiscard]] Result<nlohmann::json> Pause(std::chrono::milliseconds drain_timeout,
                                             const nlohmann::json& move = nullptr);
  [[nodiscard]] Result<nlohmann::json> Resume();
  // POST /prepare: every session that can move opens a standby connection on
  // the target now, so that the re-point inside the pause only swaps them in.
  [[nodiscard]] Result<nlohmann::json> Prepare(const std::string& host, uint16_t port);
  // POST /unprepare: the standby connections are closed.
  [[nodiscard]] Result<nlohmann::json> Unprepare();
  // POST /repoint. Pinned sessions, and sessions idle inside a transaction,
  // are closed when asked; otherwise they make the call fail.
  [[nodiscard]] Result<nlohmann::json> Repoint(const std::string& host, uint16_t port, bool close_pinned,
                                               bool close_open_transactions);

  const ProxyAddress& address() const { return address_; }

 private:
  Result<nlohmann::json> Call(const std::string& method, const std::string& path, const nlohmann::json& body,
                              std::chrono::milliseconds timeout);

  ProxyAddress address_;
};

}  // namespace cutover::switchover
