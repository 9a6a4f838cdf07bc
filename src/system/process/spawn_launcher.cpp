// Implements spawn_launcher.hpp. The child's end of the socket becomes descriptor 3 (dup2
// clears close-on-exec on it); every other inherited descriptor above 2 is closed.
#include "system/process/spawn_launcher.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "system/process/host_marker.hpp"
#include "system/process/local_socket.hpp"

extern char** environ;

namespace thespian::detail::process {
namespace {

constexpr int child_socket_fd = 3;

// Frees the file actions on every path out.
struct file_actions {
  posix_spawn_file_actions_t value;
  file_actions() {
    if (int e = posix_spawn_file_actions_init(&value); e != 0) {
      throw std::system_error(e, std::generic_category(), "posix_spawn_file_actions_init");
    }
  }
  ~file_actions() { posix_spawn_file_actions_destroy(&value); }
  void check(int e, const char* what) {
    if (e != 0) throw std::system_error(e, std::generic_category(), what);
  }
};

std::vector<std::string> host_environment() {
  std::vector<std::string> env;
  const std::string socket_prefix = absl::StrCat(host_socket_variable, "=");
  const std::string parent_prefix = absl::StrCat(host_parent_variable, "=");
  for (char** e = environ; *e != nullptr; ++e) {
    if (absl::StartsWith(*e, socket_prefix) || absl::StartsWith(*e, parent_prefix)) continue;
    env.emplace_back(*e);
  }
  env.push_back(absl::StrCat(socket_prefix, child_socket_fd));
  env.push_back(absl::StrCat(parent_prefix, ::getpid()));
  return env;
}

}  // namespace

child_process spawn_actor_process() {
  auto [parent_end, child_end] = make_socket_pair(SOCK_STREAM);
  // dup2(3, 3) would leave close-on-exec set: move the socket off 3 first.
  if (child_end.get() == child_socket_fd) {
    unique_fd moved(::fcntl(child_end.get(), F_DUPFD_CLOEXEC, child_socket_fd + 1));
    if (!moved) throw std::system_error(errno, std::generic_category(), "fcntl(F_DUPFD_CLOEXEC)");
    child_end = std::move(moved);
  }
  file_actions actions;
  actions.check(posix_spawn_file_actions_adddup2(&actions.value, child_end.get(), child_socket_fd),
                "posix_spawn_file_actions_adddup2");
  actions.check(posix_spawn_file_actions_addclosefrom_np(&actions.value, child_socket_fd + 1),
                "posix_spawn_file_actions_addclosefrom_np");

  std::vector<std::string> env = host_environment();
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string name = program_invocation_name;
  std::string marker = host_argument;
  char* argv[] = {name.data(), marker.data(), nullptr};

  pid_t pid = -1;
  if (int e = ::posix_spawn(&pid, "/proc/self/exe", &actions.value, nullptr, argv, envp.data());
      e != 0) {
    throw std::system_error(e, std::generic_category(), "posix_spawn(/proc/self/exe)");
  }
  child_end.reset();
  unique_fd pidfd;
  try {
    pidfd = open_pidfd(pid);
  } catch (...) {
    ::kill(pid, SIGKILL);  // cannot fail for our own unreaped child, but never leak it
    reap_child(pid);
    throw;
  }
  return child_process(pid, std::move(pidfd), std::move(parent_end), nullptr);
}

}  // namespace thespian::detail::process
