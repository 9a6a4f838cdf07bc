// Process Startup Method `forkserver`: a helper process forked while the program is still
// single-threaded. It forks each actor process on request (so no fork ever happens in a
// multithreaded process) and passes back over its control socket (SOCK_SEQPACKET, SCM_RIGHTS)
// the child's pid, the parent's end of its bootstrap socket and a pidfd. Being the real parent,
// it also reaps the children and reports their exit status when asked.
//
// Lifetime: the helper dies with the process that started it (PDEATHSIG, and EOF on the control
// socket), and its children die with it (PDEATHSIG), so every actor process dies with the admin.
//
// Pre-forking: with a pool size above 0 the helper keeps that many children forked and
// waiting for their bootstrap request, so a launch() hands one over at once and the helper
// forks its replacement after it has answered, off the caller's path. An idle child is the
// same process a launch would fork (nothing runs in it but a poll on its socket); one that
// dies while idle (killed) is reaped and replaced at once; when the helper ends it kills and
// reaps the idle ones before it exits.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "system/process/child_process.hpp"

namespace thespian::detail::process {

class forkserver final : public reaper, public std::enable_shared_from_this<forkserver> {
 public:
  // Forks the helper now. Throws ActorSystemStartupFailure when this process already runs
  // other threads, std::system_error when fork fails. The calling thread must live as long as
  // the forkserver (PDEATHSIG follows the thread that forked).
  // `pool`: how many children to keep forked in advance (0: fork on each launch).
  static std::shared_ptr<forkserver> start(std::size_t pool = 0);

  // Closes the control socket; the helper then exits (taking any child still running with it)
  // and is reaped here.
  ~forkserver() override;

  // A new actor process, forked by the helper. Thread-safe. Throws ActorSystemStartupFailure
  // when the helper is gone, std::system_error when it could not fork.
  child_process launch();

  // reaper: the exit status of a child of the helper that has exited. If the helper itself is
  // gone, its children were killed by their death signal: reported as SIGKILL.
  exit_status reap(pid_t pid) override;

  pid_t pid() const { return pid_; }

  // The pids of the children forked in advance and still idle (for tests). Thread-safe.
  std::vector<pid_t> pooled();

  // Tag for make_shared; use start().
  struct started {};
  forkserver(started, pid_t pid, unique_fd control);

 private:
  std::mutex mutex_;  // one request-reply exchange at a time on control_
  pid_t pid_;
  unique_fd control_;
};

}  // namespace thespian::detail::process
