// The forkserver's pool of children forked in advance (forkserver.hpp): a launch hands one
// over and the pool refills; one killed while idle is reaped and replaced; when the forkserver
// ends, every idle child is killed and reaped with it, so none is left behind.
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "support.hpp"
#include "system/process/forkserver.hpp"
#include "system/process/process_launcher.hpp"
#include "thespian/errors.hpp"

namespace process_test {
namespace {

namespace proc = thespian::detail::process;

bool contains(const std::vector<pid_t>& pids, pid_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// Polls the pool (a request to the forkserver each time) until `ready` holds; the last answer.
template <class Pred>
std::vector<pid_t> pool_when(proc::forkserver& server, Pred ready) {
  const auto deadline = clock_type::now() + generous;
  auto pids = server.pooled();
  while (!ready(pids) && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    pids = server.pooled();
  }
  return pids;
}

// No process has this pid any more (it was reaped, not merely killed).
bool gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

bool gone_by_deadline(pid_t pid) {
  const auto deadline = clock_type::now() + generous;
  while (!gone(pid) && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return gone(pid);
}

// A forkserver with a pool of `size`, once the pool is full (the test fails if it never is).
std::shared_ptr<proc::forkserver> server_with_full_pool(std::size_t size) {
  auto server = proc::forkserver::start(size);
  const auto pool = pool_when(*server, [size](const auto& p) { return p.size() == size; });
  BOOST_TEST_REQUIRE(pool.size() == size);
  return server;
}

// Makes a launched child an echo actor host, checks that it answers `text`, then ends it.
void check_echo_then_end(proc::child_process& child, const std::string& text) {
  proc::start_actor_host(child, proc::bootstrap_request{"process_test.echo", ""},
                         clock_type::now() + generous);
  send_text(child.socket(), text);
  BOOST_TEST(receive_text(child.socket(), clock_type::now() + generous) == "echo:" + text);
  child.take_socket().reset();
  BOOST_TEST_REQUIRE(child.wait_until(clock_type::now() + generous).has_value());
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(prefork_pool, no_leftover_children)

BOOST_AUTO_TEST_CASE(a_launch_takes_a_prepared_child_and_the_pool_refills) {
  if (!fork_possible_here()) return;
  auto server = server_with_full_pool(2);
  const auto before = server->pooled();
  auto child = server->launch();
  BOOST_TEST(contains(before, child.pid()), "the launch forked anew instead of using the pool");
  const pid_t taken = child.pid();
  const auto after = pool_when(*server, [taken](const auto& p) {
    return p.size() == 2 && !contains(p, taken);
  });
  BOOST_TEST(after.size() == 2u);
  BOOST_TEST(!contains(after, taken));
  check_echo_then_end(child, "pooled");
}

BOOST_AUTO_TEST_CASE(a_pooled_child_killed_while_idle_is_reaped_and_replaced) {
  if (!fork_possible_here()) return;
  auto server = server_with_full_pool(2);
  const pid_t victim = server->pooled().front();
  BOOST_TEST_REQUIRE(::kill(victim, SIGKILL) == 0);
  const auto after = pool_when(*server, [victim](const auto& p) {
    return p.size() == 2 && !contains(p, victim);
  });
  BOOST_TEST(after.size() == 2u);
  BOOST_TEST(!contains(after, victim));
  BOOST_TEST(gone_by_deadline(victim), "the killed idle child was not reaped");
  // The replacement serves a launch like any child.
  auto child = server->launch();
  BOOST_TEST(child.pid() != victim);
  check_echo_then_end(child, "replaced");
}

BOOST_AUTO_TEST_CASE(the_idle_children_are_killed_and_reaped_when_the_forkserver_ends) {
  if (!fork_possible_here()) return;
  auto server = server_with_full_pool(3);
  const auto pool = server->pooled();
  const pid_t helper = server->pid();
  server.reset();  // closes the control socket and reaps the forkserver
  // The forkserver reaped them before it ended, and we reaped it: no process of theirs is left.
  BOOST_TEST(gone(helper));
  for (const pid_t pid : pool) {
    BOOST_TEST(gone(pid), "idle child " << pid << " outlived the forkserver");
  }
}

BOOST_AUTO_TEST_CASE(a_pool_of_zero_forks_on_each_launch) {
  if (!fork_possible_here()) return;
  auto server = proc::forkserver::start(0);
  BOOST_TEST(server->pooled().empty());
  auto child = server->launch();
  BOOST_TEST(child.pid() > 0);
  BOOST_TEST(server->pooled().empty());
  child.take_socket().reset();
  BOOST_TEST_REQUIRE(child.wait_until(clock_type::now() + generous).has_value());
}

BOOST_AUTO_TEST_CASE(the_pool_size_setting_reads_its_environment_variable) {
  ::unsetenv("THESPIAN_PREFORK_POOL");
  BOOST_TEST(proc::prefork_pool_size() == 2u);
  ::setenv("THESPIAN_PREFORK_POOL", "0", 1);
  BOOST_TEST(proc::prefork_pool_size() == 0u);
  ::setenv("THESPIAN_PREFORK_POOL", "1000", 1);
  BOOST_TEST(proc::prefork_pool_size() == 64u);
  ::setenv("THESPIAN_PREFORK_POOL", "many", 1);
  BOOST_CHECK_THROW(proc::prefork_pool_size(), thespian::ActorSystemStartupFailure);
  ::unsetenv("THESPIAN_PREFORK_POOL");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace process_test
