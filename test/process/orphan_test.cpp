// Actor processes never outlive their admin: a middle process (standing in for the admin)
// starts a grandchild by each method; SIGKILL to the middle must end the grandchild too
// (PR_SET_PDEATHSIG; for forkserver children through the forkserver's own death). This test
// process is a child subreaper (main.cpp), so the orphans are reparented to it and reaped here.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "support.hpp"
#include "system/process/exit_status.hpp"
#include "system/process/process_launcher.hpp"
#include "system/process/spawn_launcher.hpp"

namespace process_test {
namespace {

namespace proc = thespian::detail::process;

// Whether the process behind `pidfd` ends before the deadline.
bool ends_before(int pidfd, clock_type::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0))) == 1;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(process_orphans, no_leftover_children)

BOOST_AUTO_TEST_CASE(killing_the_middle_process_ends_its_actor_processes) {
  for (auto method : {proc::startup_method::spawn, proc::startup_method::fork,
                      proc::startup_method::forkserver}) {
    BOOST_TEST_CONTEXT("grandchild started by " << proc::name_of(method)) {
      auto middle = proc::spawn_actor_process();
      proc::bootstrap_request request{"process_test.middle", std::string(proc::name_of(method))};
      proc::start_actor_host(middle, request, clock_type::now() + generous);
      std::istringstream report(receive_text(middle.socket(), clock_type::now() + generous));
      pid_t grandchild = 0;
      pid_t helper = 0;
      report >> grandchild >> helper;
      BOOST_TEST_REQUIRE(grandchild > 0);
      // While the middle lives, the grandchild is its unreaped child (or the helper's): the pid
      // still names it, so this pidfd is the right process.
      auto grandchild_fd = proc::open_pidfd(grandchild);
      proc::unique_fd helper_fd;
      if (helper > 0) helper_fd = proc::open_pidfd(helper);

      BOOST_TEST_REQUIRE(middle.signal(SIGKILL));
      const auto middle_status = middle.wait_until(clock_type::now() + generous);
      BOOST_TEST_REQUIRE(middle_status.has_value());
      BOOST_TEST(middle_status->signal == SIGKILL);

      BOOST_TEST_REQUIRE(ends_before(grandchild_fd.get(), clock_type::now() + generous),
                         "the actor process outlived its admin");
      if (helper_fd) {
        BOOST_TEST_REQUIRE(ends_before(helper_fd.get(), clock_type::now() + generous),
                           "the forkserver outlived its admin");
        // Whichever comes first ends it: EOF on its control socket (exit code 0; the kernel
        // closes the dead middle's files before it sends death signals) or its own PDEATHSIG.
        const auto helper_status = proc::reap_child(helper).describe();
        BOOST_TEST((helper_status == "exited with code 0" ||
                    helper_status == "killed by signal 9 (Killed)"), helper_status);
      }
      // Reparented to us (subreaper): reap it, and see that the death signal is what ended it.
      BOOST_TEST(proc::reap_child(grandchild).describe() == "killed by signal 9 (Killed)");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace process_test
