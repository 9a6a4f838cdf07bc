// How a child process ended, as the parent learns it (waitpid, or the forkserver's report), and
// the pidfd that tells the parent the moment it happens.
#pragma once

#include <sys/types.h>

#include <string>

#include "system/process/unique_fd.hpp"

namespace thespian::detail::process {

struct exit_status {
  enum class kind { exited, killed };
  kind how = kind::exited;
  int code = 0;    // exit code when `exited`
  int signal = 0;  // terminating signal when `killed`
  bool core_dumped = false;

  // From a wait status (WIFEXITED / WIFSIGNALED).
  static exit_status from_wait_status(int status);
  // "exited with code 3", "killed by signal 9 (Killed)".
  std::string describe() const;
  bool operator==(const exit_status&) const = default;
};

// A pidfd for `pid` (pidfd_open, Linux >= 5.3), close-on-exec. It becomes readable when the
// process exits; it works for any process, not only our children. Throws std::system_error.
unique_fd open_pidfd(pid_t pid);

// Reaps our own child `pid` (blocking until it has exited), retrying on EINTR. Throws
// std::system_error when `pid` is not our child (or was already reaped).
exit_status reap_child(pid_t pid);

// Same, without blocking: false (and `out` untouched) while the child still runs.
bool try_reap_child(pid_t pid, exit_status& out);

}  // namespace thespian::detail::process
