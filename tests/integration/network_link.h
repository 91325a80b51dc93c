// A TCP link of the tests' own between a client and a server on this
// machine, that can be cut and restored: the fault campaign puts one in front
// of each server's replication port, so that "the network between the two
// servers is cut" is a fault it can inject while both servers keep running.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace cutover::testing {

// Listens on 127.0.0.1:<port()> and forwards every connection to
// `upstream_host:upstream_port`. Cut() makes it a black hole, as a cut cable
// or a dropping firewall would: nothing is read or written in either
// direction and new connections are not answered, but nothing is closed
// either (no FIN, no RST). Restore() lets the bytes that waited flow again,
// as TCP retransmission would after a short partition.
class NetworkLink {
 public:
  // Listens at once; the test fails (ADD_FAILURE) when it cannot.
  NetworkLink(std::string upstream_host, uint16_t upstream_port);
  ~NetworkLink();  // closes every connection
  NetworkLink(const NetworkLink&) = delete;
  NetworkLink& operator=(const NetworkLink&) = delete;

  uint16_t port() const { return port_; }
  void Cut() { cut_ = true; }
  void Restore() { cut_ = false; }
  bool cut() const { return cut_; }

 private:
  void Loop();

  std::string upstream_host_;
  uint16_t upstream_port_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stop_{false};
  std::jthread thread_;
};

}  // namespace cutover::testing
