// Implements support.hpp by scanning /proc/<pid>/stat.
#include "support.hpp"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstddef>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "system/process/local_socket.hpp"
#include "system/process/process_launcher.hpp"
#include "system/process/thread_count.hpp"

namespace process_test {

namespace proc = thespian::detail::process;

std::vector<pid_t> children_of_this_process() {
  std::vector<pid_t> children;
  const pid_t me = ::getpid();
  pid_t helper = -1;
  if (auto server = proc::shared_forkserver()) helper = server->pid();
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) throw std::runtime_error("cannot read /proc");
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat("/proc/" + name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // gone meanwhile
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so parse after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (ppid == me && pid != helper) children.push_back(pid);
  }
  ::closedir(dir);
  return children;
}

no_leftover_children::no_leftover_children() {
  const auto before = children_of_this_process();
  BOOST_TEST_REQUIRE(before.empty(), "a child process was already running before the test");
}

no_leftover_children::~no_leftover_children() {
  const auto left = children_of_this_process();
  std::string listed;
  for (pid_t pid : left) {
    listed += ' ';
    listed += std::to_string(pid);
  }
  BOOST_CHECK_MESSAGE(left.empty(), "the test left child processes:" << listed);
  for (pid_t pid : left) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

bool wait_until_single_threaded(clock_type::time_point deadline) {
  while (proc::current_thread_count() != 1) {
    if (clock_type::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

bool fork_possible_here() {
#if defined(__SANITIZE_THREAD__)
  if (wait_until_single_threaded(clock_type::now() + 1s)) return true;
  BOOST_TEST_MESSAGE("skipped under TSan: its background thread runs since the first thread");
  return false;
#else
  BOOST_TEST_REQUIRE(wait_until_single_threaded(clock_type::now() + generous));
  return true;
#endif
}

void send_text(int fd, const std::string& text) {
  std::array<std::byte, 4> header;
  const auto size = static_cast<std::uint32_t>(text.size());
  for (int i = 0; i < 4; ++i) header[i] = static_cast<std::byte>(size >> (24 - 8 * i));
  const auto deadline = clock_type::now() + generous;
  proc::write_all(fd, header, deadline);
  proc::write_all(fd, std::as_bytes(std::span(text)), deadline);
}

std::string receive_text(int fd, clock_type::time_point deadline) {
  std::array<std::byte, 4> header;
  auto r = proc::read_exact(fd, header, deadline);
  if (r == proc::io_result::closed) return "";
  if (r == proc::io_result::timed_out) throw std::runtime_error("no text before the deadline");
  std::uint32_t size = 0;
  for (auto b : header) size = (size << 8) | std::to_integer<std::uint32_t>(b);
  if (size > 4096) throw std::runtime_error("text too long");
  std::string text(size, '\0');
  if (proc::read_exact(fd, std::as_writable_bytes(std::span(text)), deadline) !=
      proc::io_result::done) {
    throw std::runtime_error("truncated text");
  }
  return text;
}

}  // namespace process_test
