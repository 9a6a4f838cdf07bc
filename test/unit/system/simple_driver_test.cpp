// Unit tests of simpleSystemBase's driver (src/system/simple_driver.cpp): no threads of its own;
// it runs the io_context on the caller's thread until a condition holds, until nothing is left
// that could make it hold, or until the run limit.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "system/base_driver.hpp"

namespace {

using namespace std::chrono_literals;
using thespian::detail::clock;
using thespian::detail::deadline_after;
using thespian::detail::make_simple_driver;

// Counts its runs and posts itself again: a handler chain that never goes quiet.
struct endless {
  asio::io_context* context;
  int* runs;
  void operator()() const {
    ++*runs;
    asio::post(*context, *this);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(system_simple_driver)

BOOST_AUTO_TEST_CASE(deadline_after_adds_the_timeout_to_now) {
  const auto before = clock::now();
  const auto deadline = deadline_after(5s);
  const auto after = clock::now();
  BOOST_TEST((deadline >= before + 5s));
  BOOST_TEST((deadline <= after + 5s));
}

BOOST_AUTO_TEST_CASE(deadline_after_a_zero_or_negative_timeout_is_now_not_the_past) {
  const auto before = clock::now();
  const auto zero = deadline_after(0s);
  const auto negative = deadline_after(-1h);
  const auto most_negative = deadline_after(std::chrono::nanoseconds::min());
  const auto after = clock::now();
  for (const auto d : {zero, negative, most_negative}) {
    BOOST_TEST((d >= before));
    BOOST_TEST((d <= after));
  }
}

BOOST_AUTO_TEST_CASE(deadline_after_saturates_instead_of_overflowing) {
  BOOST_TEST((deadline_after(std::chrono::nanoseconds::max()) == clock::time_point::max()));
  const auto huge = std::chrono::nanoseconds::max() - std::chrono::nanoseconds(1);
  BOOST_TEST((deadline_after(huge) == clock::time_point::max()));
  BOOST_TEST((deadline_after(std::chrono::hours(24 * 365 * 100)) > clock::now()));
}

BOOST_AUTO_TEST_CASE(simple_driver_has_no_threads) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  BOOST_TEST(driver->thread_count() == 0u);
}

BOOST_AUTO_TEST_CASE(wait_until_returns_true_at_once_when_the_condition_already_holds) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  bool ran = false;
  asio::post(context, [&ran] { ran = true; });
  BOOST_TEST(driver->wait_until([] { return true; }, clock::now() + 5s));
  BOOST_TEST(!ran);  // nothing had to run
}

BOOST_AUTO_TEST_CASE(wait_until_runs_handlers_on_the_calling_thread_until_the_condition_holds) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  int step = 0;
  std::thread::id ran_on;
  asio::post(context, [&] {
    ++step;
    asio::post(context, [&] {
      ++step;
      ran_on = std::this_thread::get_id();
    });
  });
  BOOST_TEST(driver->wait_until([&] { return step == 2; }, clock::now() + 5s));
  BOOST_TEST((ran_on == std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(wait_until_gives_up_at_once_when_no_work_is_left) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  const auto started = clock::now();
  BOOST_TEST(!driver->wait_until([] { return false; }, clock::now() + 30s));
  BOOST_TEST((clock::now() - started < 10s));  // it did not sit out the deadline
}

BOOST_AUTO_TEST_CASE(wait_until_returns_false_at_the_deadline_while_work_is_pending) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  asio::steady_timer far_future(context, 1h);
  far_future.async_wait([](const std::error_code&) {});
  const auto started = clock::now();
  BOOST_TEST(!driver->wait_until([] { return false; }, clock::now() + 20ms));
  BOOST_TEST((clock::now() - started >= 20ms));
  far_future.cancel();
  driver->run_until_quiet();
}

BOOST_AUTO_TEST_CASE(wait_until_sees_a_timer_fire) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  bool fired = false;
  asio::steady_timer timer(context, 5ms);
  timer.async_wait([&fired](const std::error_code& ec) { fired = !ec; });
  BOOST_TEST(driver->wait_until([&] { return fired; }, clock::now() + 5s));
}

BOOST_AUTO_TEST_CASE(wait_until_restarts_a_context_that_had_run_out_of_work) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  (void)driver->wait_until([] { return false; }, clock::now() + 1s);  // runs out: stopped
  bool ran = false;
  asio::post(context, [&ran] { ran = true; });
  BOOST_TEST(driver->wait_until([&] { return ran; }, clock::now() + 5s));
}

BOOST_AUTO_TEST_CASE(notify_from_another_thread_wakes_a_blocked_waiter) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  asio::steady_timer far_future(context, 1h);  // keeps the waiter blocked in the context
  far_future.async_wait([](const std::error_code&) {});
  std::atomic<bool> flag{false};
  std::thread other([&] {
    flag = true;
    driver->notify();
  });
  const auto started = clock::now();
  BOOST_TEST(driver->wait_until([&] { return flag.load(); }, clock::now() + 5s));
  BOOST_TEST((clock::now() - started < 4s));
  other.join();
  far_future.cancel();
  driver->run_until_quiet();
}

BOOST_AUTO_TEST_CASE(run_until_quiet_runs_every_ready_handler_and_what_they_post) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  int ran = 0;
  for (int i = 0; i < 3; ++i) {
    asio::post(context, [&] {
      ++ran;
      asio::post(context, [&ran] { ++ran; });
    });
  }
  driver->run_until_quiet();
  BOOST_TEST(ran == 6);
}

BOOST_AUTO_TEST_CASE(run_until_quiet_stops_at_the_run_limit) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 5);
  int runs = 0;
  asio::post(context, endless{&context, &runs});
  driver->run_until_quiet();
  BOOST_TEST(runs == 5);
}

BOOST_AUTO_TEST_CASE(run_until_quiet_does_not_wait_for_timers) {
  asio::io_context context(1);
  auto driver = make_simple_driver(context, 100);
  bool fired = false;
  asio::steady_timer timer(context, 1h);
  timer.async_wait([&fired](const std::error_code& ec) { fired = !ec; });
  const auto started = clock::now();
  driver->run_until_quiet();
  BOOST_TEST(!fired);
  BOOST_TEST((clock::now() - started < 10s));
  timer.cancel();
  driver->run_until_quiet();
}

BOOST_AUTO_TEST_SUITE_END()
