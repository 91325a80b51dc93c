#include "network_link.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <vector>

#include <gtest/gtest.h>

namespace cutover::testing {
namespace {

// One forwarded connection: fd[0] the client's side, fd[1] the server's;
// pending[i] holds bytes read from fd[i] that fd[1 - i] has not taken yet.
struct Pipe {
  int fd[2] = {-1, -1};
  std::string pending[2];
  bool broken = false;
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
};

int ConnectUpstream(const std::string& host, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace

NetworkLink::NetworkLink(std::string upstream_host, uint16_t upstream_port)
    : upstream_host_(std::move(upstream_host)), upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "network link to port " << upstream_port_ << ": cannot listen: " << std::strerror(errno);
    return;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::jthread([this] { Loop(); });
}

NetworkLink::~NetworkLink() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void NetworkLink::Loop() {
  std::list<Pipe> pipes;
  std::vector<pollfd> fds;
  char buffer[64 * 1024];
  while (!stop_) {
    if (cut_) {  // a black hole: nothing moves, nothing is closed
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    for (Pipe& p : pipes) {
      for (int i = 0; i < 2; ++i) {
        short events = 0;
        if (p.pending[i].empty()) events |= POLLIN;  // read more once the other side took the last
        if (!p.pending[1 - i].empty()) events |= POLLOUT;
        fds.push_back({p.fd[i], events, 0});
      }
    }
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    if (cut_) continue;  // cut while polling: what is ready waits

    const size_t polled = pipes.size();  // pipes accepted below were not polled in this round
    size_t k = 0;
    for (auto it = pipes.begin(); k < polled; ++it, ++k) {
      Pipe& p = *it;
      for (int i = 0; i < 2 && !p.broken; ++i) {
        const short revents = fds[1 + 2 * k + i].revents;
        if (revents & (POLLIN | POLLHUP | POLLERR)) {
          const ssize_t n = ::recv(p.fd[i], buffer, sizeof buffer, 0);
          if (n > 0) {
            p.pending[i].append(buffer, static_cast<size_t>(n));
          } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            p.broken = true;  // one side closed or failed: close both, as MySQL has no half-close
          }
        }
        if (!p.broken && (revents & POLLOUT)) {
          std::string& out = p.pending[1 - i];
          const ssize_t n = ::send(p.fd[i], out.data(), out.size(), MSG_NOSIGNAL);
          if (n > 0) {
            out.erase(0, static_cast<size_t>(n));
          } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            p.broken = true;
          }
        }
      }
    }
    if (fds[0].revents & POLLIN) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client >= 0) {
        Pipe& p = pipes.emplace_back();
        p.fd[0] = client;
        p.fd[1] = ConnectUpstream(upstream_host_, upstream_port_);
        p.broken = p.fd[1] < 0;  // the server is down: the client sees its connection closed
      }
    }
    pipes.remove_if([](const Pipe& p) { return p.broken; });
  }
}

}  // namespace cutover::testing
