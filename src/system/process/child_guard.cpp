// Implements child_guard.hpp with prctl(), getppid() and one detached watcher thread.
#include "system/process/child_guard.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "system/process/local_socket.hpp"

namespace thespian::detail::process {

void die_with_parent(pid_t expected_parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died between fork/spawn and prctl: then we were already reparented
  // and no signal will come.
  if (::getppid() != expected_parent) ::_exit(host_exit_orphaned);
}

int keep_only_descriptor(int fd) {
  constexpr int kept = 3;
  if (fd != kept) {
    if (::dup2(fd, kept) < 0) ::_exit(host_exit_bad_bootstrap);
  }
  ::fcntl(kept, F_SETFD, FD_CLOEXEC);
  ::close_range(kept + 1, ~0U, 0);
  return kept;
}

void exit_when_parent_closes(int socket) {
  std::thread([socket] {
    try {
      wait_for_peer_close(socket);
    } catch (...) {
      // A socket we cannot poll is as good as a closed one: we can no longer hear the parent.
    }
    std::fflush(nullptr);
    ::_exit(host_exit_ok);
  }).detach();
}

}  // namespace thespian::detail::process
