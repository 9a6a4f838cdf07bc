// Helpers shared by the process tests: the children of this process (from /proc), a fixture
// that fails a test which leaves one behind, and bounded waits for process state.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace process_test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
inline constexpr auto generous = 10s;  // deadlines for events that take milliseconds

// Pids whose parent is this process (zombies included), except the process-wide forkserver,
// which lives as long as the test program once a test has started it.
std::vector<pid_t> children_of_this_process();

// Fails the test if it left a child process; then kills and reaps any such child so that the
// next test starts clean.
struct no_leftover_children {
  no_leftover_children();
  ~no_leftover_children();
};

// Waits (bounded) until only the main thread remains: a joined thread's /proc/self/task entry
// may outlive pthread_join by a moment. False at the deadline.
bool wait_until_single_threaded(clock_type::time_point deadline);

// Whether fork-based methods (fork, starting a forkserver) can run in this process now: waits
// until single-threaded. Under TSan, the runtime starts a background thread of its own with the
// program's first thread and keeps it to the end, so after any test that ran a thread this
// process never is single-threaded again and the launcher (rightly) refuses to fork: then this
// returns false after a message, and the caller skips its fork-based case. Without TSan a
// lasting extra thread fails the test.
bool fork_possible_here();

// Blocking helpers on a connected socket, with a deadline; throw on failure or timeout.
void send_text(int fd, const std::string& text);
// Reads one length-prefixed text (4 bytes big-endian, then bytes); "" on EOF.
std::string receive_text(int fd, clock_type::time_point deadline);

}  // namespace process_test
