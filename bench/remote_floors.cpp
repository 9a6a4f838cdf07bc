// Raw-socket floors of the remote rows (see remote_floors.hpp).
#include "remote_floors.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace bench::remote_floors {
namespace {

using bench_clock = std::chrono::steady_clock;

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

sockaddr_in loopback_any_port() {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

void tcp_pair(int sv[2]) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback_any_port();
  socklen_t length = sizeof address;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    fail("raw TCP listener");
  }
  sv[0] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sv[0] < 0 || ::connect(sv[0], reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    fail("raw TCP connect");
  }
  sv[1] = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (sv[1] < 0) fail("raw TCP accept");
  ::close(listener);
  const int on = 1;
  for (int i = 0; i < 2; ++i) ::setsockopt(sv[i], IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void udp_pair(int sv[2]) {
  sockaddr_in address[2] = {loopback_any_port(), loopback_any_port()};
  for (int i = 0; i < 2; ++i) {
    sv[i] = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    socklen_t length = sizeof address[i];
    if (sv[i] < 0 ||
        ::bind(sv[i], reinterpret_cast<sockaddr*>(&address[i]), sizeof address[i]) != 0 ||
        ::getsockname(sv[i], reinterpret_cast<sockaddr*>(&address[i]), &length) != 0) {
      fail("raw UDP socket");
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (::connect(sv[i], reinterpret_cast<sockaddr*>(&address[1 - i]), sizeof address[i]) != 0) {
      fail("raw UDP connect");
    }
  }
}

// Reads exactly `size` bytes (a stream may split them); false at EOF or on an error.
bool read_exactly(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t got = ::read(fd, data, size);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    data += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

// Forks a child that runs `serve(fd)` on sv[1] and _exits with its result; the parent keeps
// sv[0]. The child touches nothing but its socket.
template <class Serve>
pid_t fork_peer(int sv[2], Serve serve) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    ::close(sv[0]);
    ::_exit(serve(sv[1]) ? 0 : 1);
  }
  ::close(sv[1]);
  return child;
}

void reap(pid_t child, int fd, const char* what) {
  ::close(fd);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(std::string(what) + ": the raw peer process failed");
  }
}

}  // namespace

wire wire_of(const std::string& base) {
  if (base == "multiprocTCPBase") return wire::tcp;
  if (base == "multiprocUDPBase") return wire::udp;
  return wire::unix_stream;
}

const char* name_of(wire w) {
  return w == wire::tcp ? "tcp" : w == wire::udp ? "udp" : "unix";
}

void socket_pair(wire w, int sv[2]) {
  if (w == wire::tcp) {
    tcp_pair(sv);
  } else if (w == wire::udp) {
    udp_pair(sv);
  } else if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    fail("socketpair");
  }
}

samples round_trips(wire w, std::int64_t count) {
  int sv[2];
  socket_pair(w, sv);
  const pid_t child = fork_peer(sv, [count](int fd) {
    std::array<char, 64> buf{};
    for (std::int64_t i = 0; i < count; ++i) {
      if (!read_exactly(fd, buf.data(), buf.size())) return false;
      if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) return false;
    }
    return true;
  });
  std::array<char, 64> buf{};
  samples each;
  each.reserve(static_cast<std::size_t>(count));
  bool ok = true;
  for (std::int64_t i = 0; i < count && ok; ++i) {
    const auto start = bench_clock::now();
    ok = ::write(sv[0], buf.data(), buf.size()) == static_cast<ssize_t>(buf.size()) &&
         read_exactly(sv[0], buf.data(), buf.size());
    each.push_back(std::chrono::duration<double, std::nano>(bench_clock::now() - start).count());
  }
  reap(child, sv[0], "raw round trips");
  if (!ok) throw std::runtime_error("raw round trips: the socket failed");
  return each;
}

samples stream(wire w, std::int64_t messages) {
  if (w == wire::udp) throw std::logic_error("no raw datagram stream floor");
  int sv[2];
  socket_pair(w, sv);
  const pid_t child = fork_peer(sv, [messages](int fd) {
    std::array<char, 64 * 64> buf{};
    std::int64_t left = messages * 64;
    while (left > 0) {
      const ssize_t got = ::read(fd, buf.data(), buf.size());
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      left -= got;
    }
    const char done = 1;
    return ::write(fd, &done, 1) == 1;
  });
  std::array<char, 64> message{};
  const auto start = bench_clock::now();
  bool ok = true;
  for (std::int64_t i = 0; i < messages && ok; ++i) {
    ok = ::write(sv[0], message.data(), message.size()) == static_cast<ssize_t>(message.size());
  }
  char done = 0;
  ok = ok && read_exactly(sv[0], &done, 1);
  const double ns = std::chrono::duration<double, std::nano>(bench_clock::now() - start).count();
  reap(child, sv[0], "raw stream");
  if (!ok) throw std::runtime_error("raw stream: the socket failed");
  return {ns / static_cast<double>(messages)};
}

std::int64_t free_port() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int sv[2];
    tcp_pair(sv);
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(sv[1], reinterpret_cast<sockaddr*>(&address), &length);
    ::close(sv[0]);
    ::close(sv[1]);
    const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const bool udp_free =
        udp >= 0 && ::bind(udp, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (udp >= 0) ::close(udp);
    if (udp_free) return ntohs(address.sin_port);
  }
  throw std::runtime_error("no loopback port free for both TCP and UDP in 100 attempts");
}

}  // namespace bench::remote_floors
