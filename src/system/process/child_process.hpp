// child_process: what a launcher gives the parent for one new actor process — its pid, a pidfd
// (readable the moment it exits), and the parent's end of its bootstrap socket. It owns the
// process: destroying it before the process was reaped kills (SIGKILL) and reaps it, so no
// test or system leaks a process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "system/process/exit_status.hpp"
#include "system/process/unique_fd.hpp"

namespace thespian::detail::process {

// Who can collect the exit status: the parent itself (fork, spawn) or the forkserver that is
// the real parent (forkserver children).
class reaper {
 public:
  virtual ~reaper() = default;
  // Called only once the pidfd is readable (the process has exited); never blocks long.
  virtual exit_status reap(pid_t pid) = 0;
};

class child_process {
 public:
  // `by` nullptr: the caller's own child, reaped with waitpid().
  child_process(pid_t pid, unique_fd pidfd, unique_fd socket, std::shared_ptr<reaper> by);
  child_process(child_process&&) noexcept;
  child_process& operator=(child_process&&) noexcept;
  ~child_process();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  int socket() const { return socket_.get(); }
  // Hands the socket over (e.g. to a transport); the process stays owned here.
  unique_fd take_socket() { return std::move(socket_); }

  // Through the pidfd (pidfd_send_signal): never hits a recycled pid. False when the process
  // has already exited.
  bool signal(int sig);

  // The exit status once the process has ended; nullopt if it still runs at the deadline.
  // Reaps it (once: later calls return the same status).
  std::optional<exit_status> wait_until(std::chrono::steady_clock::time_point deadline);
  // Non-blocking: the status if the pidfd says it has exited.
  std::optional<exit_status> try_wait();
  const std::optional<exit_status>& status() const { return status_; }
  // Lets the process go on without us (a daemon such as a multiprocTCPBase admin, which
  // outlives the program that started it): it is not killed, and a detached thread reaps it
  // if it ends while this program runs.
  void release() noexcept;

 private:
  void kill_and_reap() noexcept;

  pid_t pid_ = -1;
  unique_fd pidfd_;
  unique_fd socket_;
  std::shared_ptr<reaper> reaper_;
  std::optional<exit_status> status_;
};

}  // namespace thespian::detail::process
