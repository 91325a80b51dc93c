// One event loop of the proxy and the sessions that live on it, plus the
// state every loop shares (the current primary, the pause flag).
//
// A session lives on one worker for its whole life, so its state needs no
// locks; the control plane reaches sessions by posting work to their worker.
// Thread-safety: ProxyShared is safe from any thread (atomics and a mutex).
// ProxyWorker's methods run on its own thread unless noted.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "proxy/asio_util.h"
#include "proxy/backend_connection.h"
#include "proxy/proxy_config.h"
#include "proxy/tls_context.h"

namespace cutover::proxy {

class ClientSession;

struct ProxyShared {
  explicit ProxyShared(const ProxyConfig& c) : config(c), primary(c.primary) {}

  HostPort Primary() const {
    std::lock_guard lock(mu);
    return primary;
  }
  void SetPrimary(HostPort p) {
    std::lock_guard lock(mu);
    primary = std::move(p);
  }
  BackendGreeting Greeting() const {
    std::lock_guard lock(mu);
    return greeting;
  }
  void SetGreeting(BackendGreeting g) {
    std::lock_guard lock(mu);
    greeting = std::move(g);
  }
  // Where sessions keep standby connections for the next move (POST /prepare);
  // nullopt when none is prepared.
  std::optional<HostPort> PreparedTarget() const {
    std::lock_guard lock(mu);
    return prepared_target;
  }
  void SetPreparedTarget(std::optional<HostPort> t) {
    std::lock_guard lock(mu);
    prepared_target = std::move(t);
  }

  // The TLS contexts new connections use; a reload swaps them, and
  // connections made before keep theirs.
  std::shared_ptr<const TlsContexts> Tls() const {
    std::lock_guard lock(mu);
    return tls;
  }
  void SetTls(std::shared_ptr<const TlsContexts> t) {
    std::lock_guard lock(mu);
    tls = std::move(t);
  }
  const ProxyConfig& config;
  // For caching_sha2_password's full auth in plaintext; set before the
  // workers start when a user logs in with that plugin, then immutable.
  std::shared_ptr<const protocol::RsaKey> rsa_key;
  std::atomic<bool> paused{false};  // Are new transactions held at the gate?
  std::atomic<uint32_t> next_connection_id{1};

 private:
  mutable std::mutex mu;
  HostPort primary;           // guarded by mu
  BackendGreeting greeting;   // guarded by mu
  std::optional<HostPort> prepared_target;  // guarded by mu
  std::shared_ptr<const TlsContexts> tls = std::make_shared<TlsContexts>();  // guarded by mu
};

// Per-worker counters; read on the worker's thread.
struct WorkerCounters {
  uint64_t sessions_accepted = 0;
  uint64_t logins_failed = 0;
  uint64_t commands = 0;
  uint64_t backend_errors = 0;
  uint64_t tls_sessions = 0;            // clients that logged in over TLS
  uint64_t tls_handshakes_failed = 0;   // client TLS handshakes that failed (bad certificate, garbage, timeout)
  uint64_t compressed_sessions = 0;     // clients that logged in with the compressed protocol
};

class ProxyWorker {
 public:
  ProxyWorker(ProxyShared& shared, int index);
  ProxyWorker(const ProxyWorker&) = delete;
  ProxyWorker& operator=(const ProxyWorker&) = delete;

  // Thread-safe.
  asio::io_context& context() { return context_; }
  int index() const { return index_; }
  void StartThread();
  void StopAndJoin();

  ProxyShared& shared() { return shared_; }
  WorkerCounters& counters() { return counters_; }

  // Starts a session for an accepted socket (whose executor is this worker's).
  void Adopt(tcp::socket socket);
  void Register(ClientSession* session) { sessions_.insert(session); }
  void Unregister(ClientSession* session) { sessions_.erase(session); }
  const std::unordered_set<ClientSession*>& sessions() const { return sessions_; }

  // Suspends until the next WakeGate(); callers recheck what they wait for.
  awaitable<void> WaitGate();
  // Wakes every session in WaitGate() (after a resume or a move).
  void WakeGate() { gate_.cancel(); }

  // Keeps a connection that a move replaced until CloseRetired(): closing
  // thousands of them inside the pause would keep the clients waiting while
  // the old server's threads end (65 us a session seen here).
  void Retire(std::unique_ptr<BackendConnection> backend) { retired_.push_back(std::move(backend)); }
  // Closes them a few every millisecond, so that the sessions' work goes on
  // in between and the old server's threads do not all end at once.
  void CloseRetired();

 private:
  ProxyShared& shared_;
  int index_;
  asio::io_context context_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  asio::steady_timer gate_{context_, asio::steady_timer::time_point::max()};
  std::unordered_set<ClientSession*> sessions_;
  std::vector<std::unique_ptr<BackendConnection>> retired_;
  asio::steady_timer retire_timer_{context_};
  WorkerCounters counters_;
};

}  // namespace cutover::proxy
