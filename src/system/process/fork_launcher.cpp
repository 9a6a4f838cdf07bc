// Implements fork_launcher.hpp.
#include "system/process/fork_launcher.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "system/process/actor_host.hpp"
#include "system/process/child_guard.hpp"
#include "system/process/local_socket.hpp"
#include "system/process/thread_count.hpp"
#include "thespian/errors.hpp"

namespace thespian::detail::process {

std::string refusal_to_fork(const char* what, std::size_t threads) {
  return absl::StrCat(
      what, " refused: this process already runs ", threads,
      " threads, and a child forked from a multithreaded process may deadlock on locks held by "
      "threads that do not exist in it. Use Process Startup Method 'spawn' (call "
      "thespian::serve_actor_process(argc, argv) first in main()), or start the forkserver "
      "before the first thread exists");
}

child_process fork_actor_process() {
  if (const auto threads = current_thread_count(); threads != 1) {
    throw ActorSystemStartupFailure(refusal_to_fork("Process Startup Method 'fork'", threads));
  }
  auto [parent_end, child_end] = make_socket_pair(SOCK_STREAM);
  const pid_t parent = ::getpid();
  // Otherwise the copy inherits unwritten stdio buffers and writes them a second time.
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    die_with_parent(parent);
    const int fd = keep_only_descriptor(child_end.release());
    (void)parent_end.release();  // closed by keep_only_descriptor
    run_actor_host(unique_fd(fd));
  }
  child_end.reset();
  unique_fd pidfd;
  try {
    pidfd = open_pidfd(pid);
  } catch (...) {
    ::kill(pid, SIGKILL);
    reap_child(pid);
    throw;
  }
  return child_process(pid, std::move(pidfd), std::move(parent_end), nullptr);
}

}  // namespace thespian::detail::process
