// Implements local_socket.hpp with poll(), sendmsg() and recvmsg().
#include "system/process/local_socket.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace thespian::detail::process {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, deadline_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - deadline_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    if (n > 0) return true;  // readiness, hang-up or error: the next call reports which
  }
}

}  // namespace

std::pair<unique_fd, unique_fd> make_socket_pair(int type) {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) throw_errno("socketpair");
  return {unique_fd(fds[0]), unique_fd(fds[1])};
}

void write_all(int fd, std::span<const std::byte> bytes, deadline_clock::time_point deadline) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd, POLLOUT, deadline)) {
        throw std::system_error(std::make_error_code(std::errc::timed_out), "write to child socket");
      }
      continue;
    }
    throw_errno("send");
  }
}

io_result read_exact(int fd, std::span<std::byte> into, deadline_clock::time_point deadline) {
  while (!into.empty()) {
    const ssize_t n = ::recv(fd, into.data(), into.size(), MSG_DONTWAIT);
    if (n > 0) {
      into = into.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return io_result::closed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd, POLLIN, deadline)) return io_result::timed_out;
      continue;
    }
    if (errno == ECONNRESET) return io_result::closed;
    throw_errno("recv");
  }
  return io_result::done;
}

void send_with_fds(int fd, std::span<const std::byte> bytes, std::span<const int> fds) {
  iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(fd, &msg, MSG_NOSIGNAL) >= 0) return;
    if (errno != EINTR) throw_errno("sendmsg");
  }
}

std::pair<std::size_t, std::vector<unique_fd>> receive_with_fds(int fd, std::span<std::byte> into,
                                                                std::size_t max_fds) {
  iovec iov{into.data(), into.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * std::max<std::size_t>(max_fds, 1)));
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  do {
    n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == ECONNRESET) return {std::size_t{0}, std::vector<unique_fd>{}};
    throw_errno("recvmsg");
  }
  std::vector<unique_fd> received;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int received_fd;
      std::memcpy(&received_fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      received.emplace_back(received_fd);
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    throw std::system_error(std::make_error_code(std::errc::message_size),
                            "recvmsg: more descriptors than expected");
  }
  return std::pair<std::size_t, std::vector<unique_fd>>(static_cast<std::size_t>(n), std::move(received));
}

void wait_for_peer_close(int fd) {
  for (;;) {
    pollfd p{fd, POLLRDHUP, 0};
    const int n = ::poll(&p, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("poll");
    if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) return;
  }
}

}  // namespace thespian::detail::process
