// fork() only while single-threaded: `fork` and starting a forkserver are refused with a clear
// message once another thread runs, and the default method then falls back to `spawn`, which
// works because this program's main() calls serve_actor_process().
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "support.hpp"
#include "system/process/fork_launcher.hpp"
#include "system/process/forkserver.hpp"
#include "system/process/host_marker.hpp"
#include "system/process/process_launcher.hpp"
#include "thespian/errors.hpp"

namespace process_test {
namespace {

namespace proc = thespian::detail::process;

// One extra thread for the scope of the object.
class other_thread {
 public:
  other_thread()
      : thread_([this] {
          std::unique_lock lock(mutex_);
          done_.wait(lock, [this] { return stop_; });
        }) {}
  ~other_thread() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    done_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  bool stop_ = false;
  std::thread thread_;
};

bool names_reason_and_alternatives(const thespian::ActorSystemStartupFailure& e) {
  const std::string what = e.what();
  BOOST_TEST_MESSAGE("message: " << what);
  return what.find("threads") != std::string::npos && what.find("'spawn'") != std::string::npos &&
         what.find("serve_actor_process") != std::string::npos &&
         what.find("forkserver") != std::string::npos;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(process_threads, no_leftover_children)

BOOST_AUTO_TEST_CASE(fork_is_refused_while_another_thread_runs) {
  other_thread running;
  BOOST_CHECK_EXCEPTION(proc::fork_actor_process(), thespian::ActorSystemStartupFailure,
                        names_reason_and_alternatives);
}

BOOST_AUTO_TEST_CASE(starting_a_forkserver_is_refused_while_another_thread_runs) {
  other_thread running;
  BOOST_CHECK_EXCEPTION(proc::forkserver::start(), thespian::ActorSystemStartupFailure,
                        names_reason_and_alternatives);
}

BOOST_AUTO_TEST_CASE(the_hook_in_main_is_recorded) {
  BOOST_TEST(proc::actor_host_hook_installed());
}

BOOST_AUTO_TEST_CASE(the_default_method_is_spawn_once_threads_run_without_a_forkserver) {
  if (proc::shared_forkserver()) {
    BOOST_TEST(proc::name_of(proc::default_startup_method()) == "forkserver");
    return;
  }
  other_thread running;
  BOOST_TEST(proc::name_of(proc::default_startup_method()) == "spawn");
  BOOST_TEST(!proc::shared_forkserver());
}

BOOST_AUTO_TEST_CASE(the_default_method_starts_the_shared_forkserver_while_single_threaded) {
  if (!proc::shared_forkserver() && !fork_possible_here()) return;
  BOOST_TEST(proc::name_of(proc::default_startup_method()) == "forkserver");
  const auto server = proc::shared_forkserver();
  BOOST_TEST_REQUIRE(server != nullptr);
  // Once running, it serves from any thread.
  other_thread running;
  auto child = proc::launch_actor_process(proc::startup_method::forkserver);
  proc::bootstrap_request request{"process_test.echo", ""};
  proc::start_actor_host(child, request, clock_type::now() + generous);
  send_text(child.socket(), "from a multithreaded parent");
  BOOST_TEST(receive_text(child.socket(), clock_type::now() + generous) ==
             "echo:from a multithreaded parent");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace process_test
