// UNIX-domain socket plumbing for the process layer: close-on-exec socket pairs, whole-buffer
// reads and writes bounded by a deadline, and passing descriptors (SCM_RIGHTS). Blocking calls
// with poll(): they run before any io_context exists (in a new child) or on the launcher's
// thread for one short exchange.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "system/process/unique_fd.hpp"

namespace thespian::detail::process {

using deadline_clock = std::chrono::steady_clock;

// socketpair(AF_UNIX, type | SOCK_CLOEXEC). Throws std::system_error.
std::pair<unique_fd, unique_fd> make_socket_pair(int type);

// Outcome of a bounded read.
enum class io_result { done, closed, timed_out };

// Writes all of `bytes` (MSG_NOSIGNAL: a gone peer is an error, not SIGPIPE). Throws
// std::system_error on failure or when the deadline passes first.
void write_all(int fd, std::span<const std::byte> bytes, deadline_clock::time_point deadline);

// Fills `into` completely; `closed` when the peer closed first (even part-way), `timed_out`
// when the deadline passed. Throws std::system_error on other failures.
io_result read_exact(int fd, std::span<std::byte> into, deadline_clock::time_point deadline);

// One message plus descriptors over a SOCK_SEQPACKET or SOCK_STREAM socket.
void send_with_fds(int fd, std::span<const std::byte> bytes, std::span<const int> fds);
// Receives one message of at most into.size() bytes and up to `max_fds` descriptors (made
// close-on-exec). Returns the byte count (0: peer closed) and the descriptors. Blocks.
std::pair<std::size_t, std::vector<unique_fd>> receive_with_fds(int fd, std::span<std::byte> into,
                                                                std::size_t max_fds);

// Blocks until the peer of the stream socket `fd` has closed its end (POLLRDHUP / POLLHUP),
// without consuming data. Used by a child to learn that its parent is gone.
void wait_for_peer_close(int fd);

}  // namespace thespian::detail::process
