// Implements forkserver.hpp: the helper's request loop and the parent's side of its protocol.
// Both ends are the same binary, so requests and replies are fixed-size structs, one per
// SOCK_SEQPACKET message.
#include "system/process/forkserver.hpp"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>
#include <system_error>

#include "system/process/actor_host.hpp"
#include "system/process/child_guard.hpp"
#include "system/process/fork_launcher.hpp"
#include "system/process/local_socket.hpp"
#include "system/process/thread_count.hpp"
#include "thespian/errors.hpp"

namespace thespian::detail::process {
namespace {

enum class request_kind : std::int32_t { launch = 1, reap = 2 };

struct request {
  request_kind kind;
  std::int32_t pid;  // for reap
};

struct launch_reply {
  std::int32_t pid;    // < 0 on failure
  std::int32_t error;  // errno of the failure
};

enum class reap_state : std::int32_t { exited = 0, running = 1, unknown = 2 };

struct reap_reply {
  reap_state state;
  std::int32_t wait_status;
};

template <class T>
std::span<const std::byte> bytes_of(const T& value) {
  return std::as_bytes(std::span(&value, 1));
}

template <class T>
std::span<std::byte> writable_bytes_of(T& value) {
  return std::as_writable_bytes(std::span(&value, 1));
}

void handle_launch(int control) {
  launch_reply reply{-1, 0};
  try {
    auto [parent_end, child_end] = make_socket_pair(SOCK_STREAM);
    const pid_t me = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      die_with_parent(me);
      const int fd = keep_only_descriptor(child_end.release());
      (void)parent_end.release();  // closed by keep_only_descriptor, like the control socket
      run_actor_host(unique_fd(fd));
    }
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    child_end.reset();
    // Our own unreaped child: its pid cannot be recycled before this pidfd exists.
    unique_fd pidfd = open_pidfd(pid);
    reply.pid = pid;
    const int fds[] = {parent_end.get(), pidfd.get()};
    send_with_fds(control, bytes_of(reply), fds);
    return;
  } catch (const std::system_error& e) {
    reply.error = e.code().value();
  } catch (...) {
    reply.error = EIO;
  }
  send_with_fds(control, bytes_of(reply), {});
}

void handle_reap(int control, pid_t pid) {
  reap_reply reply{reap_state::unknown, 0};
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid) reply = {reap_state::exited, status};
  if (r == 0) reply.state = reap_state::running;
  send_with_fds(control, bytes_of(reply), {});
}

[[noreturn]] void serve(int control) {
  // Inherited dispositions must not auto-reap our children (SIG_IGN) or stop us.
  ::signal(SIGCHLD, SIG_DFL);
  ::signal(SIGPIPE, SIG_IGN);
  for (;;) {
    request req{};
    std::size_t n = 0;
    try {
      n = receive_with_fds(control, writable_bytes_of(req), 0).first;
      if (n == 0) break;  // the parent closed the control socket, or died
      if (n != sizeof req) continue;
      if (req.kind == request_kind::launch) handle_launch(control);
      if (req.kind == request_kind::reap) handle_reap(control, req.pid);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "thespian forkserver %d: %s\n", ::getpid(), e.what());
      break;
    }
  }
  std::fflush(nullptr);
  ::_exit(0);
}

}  // namespace

forkserver::forkserver(started, pid_t pid, unique_fd control)
    : pid_(pid), control_(std::move(control)) {}

std::shared_ptr<forkserver> forkserver::start() {
  if (const auto threads = current_thread_count(); threads != 1) {
    throw ActorSystemStartupFailure(refusal_to_fork("Starting the forkserver", threads));
  }
  auto [ours, theirs] = make_socket_pair(SOCK_SEQPACKET);
  const pid_t parent = ::getpid();
  // Otherwise the copy inherits unwritten stdio buffers and writes them a second time.
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork (forkserver)");
  if (pid == 0) {
    die_with_parent(parent);
    const int fd = keep_only_descriptor(theirs.release());
    (void)ours.release();  // closed by keep_only_descriptor
    serve(fd);
  }
  theirs.reset();
  return std::make_shared<forkserver>(started{}, pid, std::move(ours));
}

forkserver::~forkserver() {
  control_.reset();
  try {
    reap_child(pid_);
  } catch (...) {
  }
}

child_process forkserver::launch() {
  std::lock_guard lock(mutex_);
  request req{request_kind::launch, 0};
  launch_reply reply{};
  std::vector<unique_fd> fds;
  try {
    send_with_fds(control_.get(), bytes_of(req), {});
    std::size_t n;
    std::tie(n, fds) = receive_with_fds(control_.get(), writable_bytes_of(reply), 2);
    if (n != sizeof reply) throw std::system_error(std::make_error_code(std::errc::io_error));
  } catch (const std::system_error& e) {
    throw ActorSystemStartupFailure(std::string("the forkserver (pid ") + std::to_string(pid_) +
                                    ") is gone: " + e.what());
  }
  if (reply.pid < 0) {
    throw std::system_error(reply.error, std::generic_category(), "fork in the forkserver");
  }
  if (fds.size() != 2) {
    throw ActorSystemStartupFailure("the forkserver sent no descriptors with the new process");
  }
  return child_process(reply.pid, std::move(fds[1]), std::move(fds[0]), shared_from_this());
}

exit_status forkserver::reap(pid_t pid) {
  std::lock_guard lock(mutex_);
  request req{request_kind::reap, pid};
  reap_reply reply{};
  try {
    send_with_fds(control_.get(), bytes_of(req), {});
    if (receive_with_fds(control_.get(), writable_bytes_of(reply), 0).first != sizeof reply) {
      reply.state = reap_state::unknown;
    }
  } catch (const std::system_error&) {
    reply.state = reap_state::unknown;
  }
  if (reply.state == reap_state::exited) return exit_status::from_wait_status(reply.wait_status);
  if (reply.state == reap_state::running) {
    // Only asked once the pidfd said the process exited: a broken invariant, not a state.
    throw std::logic_error("the forkserver reports pid " + std::to_string(pid) +
                           " as running after its pidfd reported its exit");
  }
  // The helper is gone (or lost the child): its children got SIGKILL from PDEATHSIG.
  exit_status killed;
  killed.how = exit_status::kind::killed;
  killed.signal = SIGKILL;
  return killed;
}

}  // namespace thespian::detail::process
