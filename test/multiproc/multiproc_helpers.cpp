// Implements multiproc_helpers.hpp, and registers its message types once for the program.
#include "multiproc_helpers.hpp"

#include <sys/wait.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

#include "system/process/process_launcher.hpp"

THESPIAN_MESSAGE(multiproc_test::Pid);

namespace multiproc_test {
namespace {

struct proc_entry {
  pid_t parent = 0;
  char state = 0;
  pid_t session = 0;
};

std::map<pid_t, proc_entry> processes() {
  std::map<pid_t, proc_entry> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    pid_t ppid = 0, group = 0, session = 0;
    std::istringstream rest(line.substr(close + 2));
    rest >> state >> ppid >> group >> session;
    found[static_cast<pid_t>(std::stol(name))] = proc_entry{ppid, state, session};
  }
  return found;
}

std::map<pid_t, pid_t> parents() {
  std::map<pid_t, pid_t> parent;
  for (const auto& [pid, entry] : processes()) parent[pid] = entry.parent;
  return parent;
}

// Our process-wide forkserver: a child of ours that lasts as long as the program.
pid_t our_forkserver() {
  const auto server = thespian::detail::process::shared_forkserver();
  return server ? server->pid() : -1;
}

}  // namespace

std::set<pid_t> descendants() {
  const auto parent = parents();
  const pid_t forkserver = our_forkserver();
  std::set<pid_t> found;
  for (const auto& [pid, ppid] : parent) {
    if (pid == forkserver) continue;
    for (pid_t at = pid; at > 1;) {
      auto it = parent.find(at);
      if (it == parent.end()) break;
      if (it->second == ::getpid()) {
        found.insert(pid);
        break;
      }
      at = it->second;
    }
  }
  return found;
}

std::set<pid_t> live_descendants() {
  const auto all = processes();
  std::set<pid_t> live;
  for (pid_t pid : descendants()) {
    auto it = all.find(pid);
    if (it != all.end() && it->second.state != 'Z') live.insert(pid);
  }
  return live;
}

void reap_orphans() {
  const pid_t forkserver = our_forkserver();
  for (const auto& [pid, entry] : processes()) {
    if (entry.parent == ::getpid() && entry.state == 'Z' && pid != forkserver) {
      ::waitpid(pid, nullptr, WNOHANG);
    }
  }
}

pid_t session_leader_above(pid_t pid) {
  const auto all = processes();
  for (pid_t at = pid; at > 1;) {
    auto it = all.find(at);
    if (it == all.end()) return 0;
    if (it->second.session == at) return at;
    at = it->second.parent;
  }
  return 0;
}

pid_t child_of_ours_above(pid_t pid) {
  const auto all = processes();
  const pid_t forkserver = our_forkserver();
  for (pid_t at = pid; at > 1;) {
    auto it = all.find(at);
    if (it == all.end()) return 0;
    if (it->second.parent == ::getpid() || it->second.parent == forkserver) return at;
    at = it->second.parent;
  }
  return 0;
}

pid_t parent_of(pid_t pid) {
  const auto parent = parents();
  auto it = parent.find(pid);
  return it == parent.end() ? 0 : it->second;
}

bool eventually(const std::function<bool()>& pred, std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

thespian::SystemOptions warning_collector::options() const {
  thespian::SystemOptions options;
  options.sink_threshold = thespian::LogLevel::warning;
  options.log_sink = [shared = shared_](const thespian::LogRecord& r) {
    std::lock_guard lock(shared->mutex);
    shared->texts.push_back(r.text);
  };
  return options;
}

std::vector<std::string> warning_collector::texts() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->texts;
}

bool check_admin_shut_down_in_order(const std::vector<std::string>& warnings) {
  bool ignored = false;
  for (const auto& text : warnings) {
    BOOST_TEST_CONTEXT("warning: " << text) {
      BOOST_TEST(text.find("did not confirm the shutdown") == std::string::npos);
      BOOST_TEST(text.find("did not shut down in order") == std::string::npos);
    }
    if (text.find("ignored an ActorExitRequest") != std::string::npos) ignored = true;
  }
  return ignored;
}

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace multiproc_test
