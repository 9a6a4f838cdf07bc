// Implements forkserver.hpp: the helper's request loop and the parent's side of its protocol.
// Both ends are the same binary, so requests and replies are fixed-size structs, one per
// SOCK_SEQPACKET message.
#include "system/process/forkserver.hpp"

#include <malloc.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>
#include <system_error>

#include "system/process/actor_host.hpp"
#include "system/process/child_guard.hpp"
#include "system/process/exit_status.hpp"
#include "system/process/fork_launcher.hpp"
#include "system/process/local_socket.hpp"
#include "system/process/thread_count.hpp"
#include "thespian/errors.hpp"

namespace thespian::detail::process {
namespace {

enum class request_kind : std::int32_t { launch = 1, reap = 2, pooled = 3 };

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

constexpr std::size_t max_pool = 64;

struct pooled_reply {
  std::int32_t count;
  std::int32_t pids[max_pool];
};

template <class T>
std::span<const std::byte> bytes_of(const T& value) {
  return std::as_bytes(std::span(&value, 1));
}

template <class T>
std::span<std::byte> writable_bytes_of(T& value) {
  return std::as_writable_bytes(std::span(&value, 1));
}

// One request-reply exchange on the control socket (the caller holds the mutex): the reply
// with up to `max_fds` descriptors. Throws std::system_error when the helper is gone or
// answers short; each caller decides what that means for it.
template <class Reply>
std::vector<unique_fd> exchange(int control, const request& req, Reply& reply,
                                std::size_t max_fds) {
  send_with_fds(control, bytes_of(req), {});
  auto [n, fds] = receive_with_fds(control, writable_bytes_of(reply), max_fds);
  if (n != sizeof reply) throw std::system_error(std::make_error_code(std::errc::io_error));
  return std::move(fds);
}

// An actor process forked by the helper: the helper's end of its bootstrap socket and a
// pidfd (ours until handed over with the launch reply).
struct forked_child {
  pid_t pid = -1;
  unique_fd socket;
  unique_fd pidfd;
};

// In an idle (pre-forked) child: waits without limit until its bootstrap request begins, or
// its socket closes (the helper ended); the bootstrap's own wait applies from there.
void wait_for_request(int fd) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, -1) > 0 || errno != EINTR) return;
  }
}

// Forks one actor process; the child never returns from here. `idle`: forked in advance.
forked_child fork_child(bool idle) {
  auto [parent_end, child_end] = make_socket_pair(SOCK_STREAM);
  const pid_t me = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    die_with_parent(me);
    // Also closes the helper's control socket and its other children's sockets and pidfds.
    const int fd = keep_only_descriptor(child_end.release());
    (void)parent_end.release();  // closed by keep_only_descriptor, like the control socket
    if (idle) wait_for_request(fd);
    run_actor_host(unique_fd(fd));
  }
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  child_end.reset();
  forked_child child;
  child.pid = pid;
  child.socket = std::move(parent_end);
  try {
    // Our own unreaped child: its pid cannot be recycled before this pidfd exists.
    child.pidfd = open_pidfd(pid);
  } catch (...) {
    ::kill(pid, SIGKILL);
    reap_child(pid);
    throw;
  }
  return child;
}

struct server {
  int control = -1;
  std::size_t pool_size = 0;
  std::deque<forked_child> idle;  // forked in advance, oldest first

  // Reaps the idle children that have died (killed while they waited): the loop replaces them.
  void drop_dead_idle() {
    std::erase_if(idle, [](const forked_child& c) {
      exit_status ignored;
      return try_reap_child(c.pid, ignored);
    });
  }

  void handle_launch() {
    drop_dead_idle();
    launch_reply reply{-1, 0};
    try {
      forked_child child;
      if (!idle.empty()) {
        child = std::move(idle.front());
        idle.pop_front();
      } else {
        child = fork_child(false);
      }
      reply.pid = child.pid;
      const int fds[] = {child.socket.get(), child.pidfd.get()};
      send_with_fds(control, bytes_of(reply), fds);
      return;  // our copies close here: the caller owns the process now
    } catch (const std::system_error& e) {
      reply.error = e.code().value();
    } catch (...) {
      reply.error = EIO;
    }
    send_with_fds(control, bytes_of(reply), {});
  }

  void handle_reap(pid_t pid) const {
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

  void handle_pooled() {
    drop_dead_idle();
    pooled_reply reply{};
    for (const auto& c : idle) reply.pids[reply.count++] = c.pid;
    send_with_fds(control, bytes_of(reply), {});
  }

  // Every idle child goes (killed, reaped) before the helper does: none is left behind.
  void end_idle() {
    for (const auto& c : idle) ::kill(c.pid, SIGKILL);  // unreaped children: pids still ours
    for (const auto& c : idle) {
      try {
        reap_child(c.pid);
      } catch (...) {
      }
    }
    idle.clear();
  }

  // One request; false when the parent closed the control socket (or died).
  bool serve_request() {
    request req{};
    const std::size_t n = receive_with_fds(control, writable_bytes_of(req), 0).first;
    if (n == 0) return false;
    if (n != sizeof req) return true;
    if (req.kind == request_kind::launch) handle_launch();
    if (req.kind == request_kind::reap) handle_reap(req.pid);
    if (req.kind == request_kind::pooled) handle_pooled();
    return true;
  }

  // Requests come first; the pool is refilled one fork at a time while none waits, so a
  // burst of launches is never held up by refills (once the pool is empty, each launch forks).
  void run() {
    std::vector<pollfd> fds;
    for (;;) {
      fds.assign(1, pollfd{control, POLLIN, 0});
      for (const auto& c : idle) fds.push_back(pollfd{c.pidfd.get(), POLLIN, 0});
      const bool short_of_idle = idle.size() < pool_size;
      const int n = ::poll(fds.data(), fds.size(), short_of_idle ? 0 : -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::system_error(errno, std::generic_category(), "poll");
      if (fds[0].revents != 0) {
        if (!serve_request()) return;
        continue;
      }
      if (n > 0) {
        drop_dead_idle();  // an idle child's pidfd: it died
        continue;
      }
      if (short_of_idle) {
        try {
          idle.push_back(fork_child(true));
        } catch (const std::exception& e) {
          // Out of processes or memory now: launches fork on demand (and report the error).
          std::fprintf(stderr, "thespian forkserver %d: pre-forking: %s\n", ::getpid(), e.what());
          pool_size = idle.size();
        }
      }
    }
  }
};

[[noreturn]] void serve(int control, std::size_t pool_size) {
  // Inherited dispositions must not auto-reap our children (SIG_IGN) or stop us.
  ::signal(SIGCHLD, SIG_DFL);
  ::signal(SIGPIPE, SIG_IGN);
  // Inherited by every process forked from here (actor processes, the logger), not by the
  // process that started us: without it each of their threads makes a malloc arena of its own
  // on its first allocation (a 64 MiB reservation, its first pages faulted in), a cost each
  // short-lived actor process pays per thread. An actor process's threads take turns more
  // than they contend, so one shared arena is cheaper.
  ::mallopt(M_ARENA_MAX, 1);
  server s;
  s.control = control;
  s.pool_size = std::min(pool_size, max_pool);
  try {
    s.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "thespian forkserver %d: %s\n", ::getpid(), e.what());
  }
  s.end_idle();
  std::fflush(nullptr);
  ::_exit(0);
}

}  // namespace

forkserver::forkserver(started, pid_t pid, unique_fd control)
    : pid_(pid), control_(std::move(control)) {}

std::shared_ptr<forkserver> forkserver::start(std::size_t pool) {
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
    serve(fd, pool);
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
    fds = exchange(control_.get(), req, reply, 2);
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

std::vector<pid_t> forkserver::pooled() {
  std::lock_guard lock(mutex_);
  request req{request_kind::pooled, 0};
  pooled_reply reply{};
  std::vector<pid_t> pids;
  try {
    exchange(control_.get(), req, reply, 0);
  } catch (const std::system_error&) {
    return pids;  // the helper is gone: no pool to report
  }
  for (std::int32_t i = 0; i < reply.count && i < static_cast<std::int32_t>(max_pool); ++i) {
    pids.push_back(reply.pids[i]);
  }
  return pids;
}

exit_status forkserver::reap(pid_t pid) {
  std::lock_guard lock(mutex_);
  request req{request_kind::reap, pid};
  reap_reply reply{};
  try {
    exchange(control_.get(), req, reply, 0);
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
