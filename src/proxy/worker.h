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
#include <thread>
#include <unordered_set>

#include "proxy/asio_util.h"
#include "proxy/backend_connection.h"
#include "proxy/proxy_config.h"

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

  const ProxyConfig& config;
  std::atomic<bool> paused{false};  // Are new transactions held at the gate?
  std::atomic<uint32_t> next_connection_id{1};

 private:
  mutable std::mutex mu;
  HostPort primary;           // guarded by mu
  BackendGreeting greeting;   // guarded by mu
};

// Per-worker counters; read on the worker's thread.
struct WorkerCounters {
  uint64_t sessions_accepted = 0;
  uint64_t logins_failed = 0;
  uint64_t commands = 0;
  uint64_t backend_errors = 0;
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

 private:
  ProxyShared& shared_;
  int index_;
  asio::io_context context_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  asio::steady_timer gate_{context_, asio::steady_timer::time_point::max()};
  std::unordered_set<ClientSession*> sessions_;
  WorkerCounters counters_;
};

}  // namespace cutover::proxy
