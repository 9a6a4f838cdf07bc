// Implements exit_status.hpp: wait statuses, pidfd_open through syscall() (glibc before 2.36
// has no wrapper), and reaping with EINTR retries.
#include "system/process/exit_status.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace thespian::detail::process {

exit_status exit_status::from_wait_status(int status) {
  exit_status s;
  if (WIFSIGNALED(status)) {
    s.how = kind::killed;
    s.signal = WTERMSIG(status);
    s.core_dumped = WCOREDUMP(status);
  } else {
    s.how = kind::exited;
    s.code = WEXITSTATUS(status);
  }
  return s;
}

std::string exit_status::describe() const {
  if (how == kind::exited) return absl::StrCat("exited with code ", code);
  return absl::StrCat("killed by signal ", signal, " (", ::strsignal(signal), ")",
                      core_dumped ? ", core dumped" : "");
}

unique_fd open_pidfd(pid_t pid) {
  // pidfds are always close-on-exec.
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            absl::StrCat("pidfd_open(", pid, ") (needs Linux >= 5.3)"));
  }
  return unique_fd(static_cast<int>(fd));
}

exit_status reap_child(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    throw std::system_error(errno, std::generic_category(), absl::StrCat("waitpid(", pid, ")"));
  }
  return exit_status::from_wait_status(status);
}

bool try_reap_child(pid_t pid, exit_status& out) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    throw std::system_error(errno, std::generic_category(), absl::StrCat("waitpid(", pid, ")"));
  }
  if (r == 0) return false;
  out = exit_status::from_wait_status(status);
  return true;
}

}  // namespace thespian::detail::process
