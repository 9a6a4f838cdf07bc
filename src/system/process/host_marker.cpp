// Implements host_marker.hpp. The death signal is armed before anything else, then the
// variables are removed so that programs this host may start do not inherit them.
#include "system/process/host_marker.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "system/process/actor_host.hpp"
#include "system/process/child_guard.hpp"

namespace thespian::detail::process {
namespace {

std::atomic<bool> hook_ran{false};

[[noreturn]] void bad_marker(const char* what) {
  std::fprintf(stderr, "thespian actor process %d: %s\n", ::getpid(), what);
  std::fflush(nullptr);
  ::_exit(host_exit_bad_bootstrap);
}

}  // namespace

void serve_if_actor_host() {
  const char* socket_text = std::getenv(host_socket_variable);
  if (socket_text == nullptr) {
    hook_ran.store(true, std::memory_order_relaxed);
    return;
  }
  // First, so that a parent dying from here on takes us with it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const char* parent_text = std::getenv(host_parent_variable);
  int socket = -1;
  int parent = -1;
  if (!absl::SimpleAtoi(socket_text, &socket) || socket < 0) {
    bad_marker("THESPIAN_ACTOR_HOST is not a descriptor number");
  }
  if (parent_text == nullptr || !absl::SimpleAtoi(parent_text, &parent) || parent <= 0) {
    bad_marker("THESPIAN_ACTOR_HOST_PARENT is missing or not a pid");
  }
  die_with_parent(static_cast<pid_t>(parent));
  ::unsetenv(host_socket_variable);
  ::unsetenv(host_parent_variable);
  // Descriptors this copy opens from here on are close-on-exec; the socket must be too.
  if (::fcntl(socket, F_SETFD, FD_CLOEXEC) != 0) bad_marker("THESPIAN_ACTOR_HOST names no open descriptor");
  hook_ran.store(true, std::memory_order_relaxed);
  run_actor_host(unique_fd(socket));
}

bool actor_host_hook_installed() { return hook_ran.load(std::memory_order_relaxed); }

}  // namespace thespian::detail::process
