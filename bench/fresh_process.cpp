// Implements fresh_process.hpp: posix_spawn of this same binary with its stdout on a pipe (an
// Asio readable_pipe), then waitpid. The child inherits stderr, so whatever it says on failure
// reaches the user next to the row that failed.
#include "fresh_process.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <asio/connect_pipe.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/readable_pipe.hpp>
#include <asio/writable_pipe.hpp>

#include "workloads.hpp"

extern char** environ;

namespace bench {

samples in_fresh_process(const std::string& row, std::int64_t n) {
  asio::io_context io;
  asio::readable_pipe from_child(io);
  asio::writable_pipe child_stdout(io);
  asio::connect_pipe(from_child, child_stdout);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_stdout.native_handle(), STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, from_child.native_handle());
  std::string self = "/proc/self/exe";
  std::string count = std::to_string(n);
  std::vector<char*> argv{self.data(),  const_cast<char*>("bench"),
                          const_cast<char*>("--measure-here"), const_cast<char*>(row.c_str()),
                          count.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  child_stdout.close();
  if (spawned != 0) {
    throw std::runtime_error("cannot start a fresh process to measure " + row + ": " +
                             std::strerror(spawned));
  }

  std::string out;
  std::error_code ec;
  asio::read(from_child, asio::dynamic_buffer(out), ec);  // until the child closes stdout
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (ec && ec != asio::error::eof) {
    throw std::runtime_error("reading the figure of " + row + " from its process: " + ec.message());
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("the fresh process measuring " + row + " failed (" +
                             (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                                : "killed by signal " + std::to_string(WTERMSIG(status))) +
                             ")");
  }
  char* end = nullptr;
  const double figure = std::strtod(out.c_str(), &end);
  if (end == out.c_str()) {
    throw std::runtime_error("the fresh process measuring " + row + " printed no figure: '" + out + "'");
  }
  return {figure};
}

double measure_here(const std::string& row, std::int64_t n) {
  const std::string prefix = "idle-actor-bytes/";
  if (row.rfind(prefix, 0) == 0) {
    const std::string base = row.substr(prefix.size());
#if THESPIAN_BENCH_WITH_CAF
    if (base == "caf") return caf_side::idle_actor_bytes(n).at(0);
#endif
    if (base == "simpleSystemBase" || base == "multithreadBase") {
      return ours::idle_actor_bytes(base, n).at(0);
    }
  }
  throw std::invalid_argument("'" + row + "' is not a row measured in a fresh process");
}

}  // namespace bench
