// Unit tests of multithreadBase's driver (src/system/multithread_driver.cpp): a pool of threads
// runs the io_context, callers outside block on a condition until notified or the deadline, and
// stop() joins the pool.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "system/base_driver.hpp"

namespace {

using namespace std::chrono_literals;
using thespian::detail::clock;
using thespian::detail::make_multithread_driver;

}  // namespace

BOOST_AUTO_TEST_SUITE(system_multithread_driver)

BOOST_AUTO_TEST_CASE(driver_runs_the_requested_number_of_threads) {
  asio::io_context context(3);
  auto driver = make_multithread_driver(context, 3);
  BOOST_TEST(driver->thread_count() == 3u);
}

BOOST_AUTO_TEST_CASE(handlers_run_on_pool_threads_not_the_caller) {
  asio::io_context context(2);
  auto driver = make_multithread_driver(context, 2);
  std::mutex mutex;
  std::thread::id ran_on;
  std::atomic<bool> done{false};
  asio::post(context, [&] {
    {
      std::lock_guard lock(mutex);
      ran_on = std::this_thread::get_id();
    }
    done = true;
    driver->notify();
  });
  BOOST_TEST(driver->wait_until([&] { return done.load(); }, clock::now() + 5s));
  std::lock_guard lock(mutex);
  BOOST_TEST((ran_on != std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(wait_until_returns_false_at_the_deadline_when_the_condition_never_holds) {
  asio::io_context context(1);
  auto driver = make_multithread_driver(context, 1);
  const auto started = clock::now();
  BOOST_TEST(!driver->wait_until([] { return false; }, clock::now() + 20ms));
  BOOST_TEST((clock::now() - started >= 20ms));
}

BOOST_AUTO_TEST_CASE(run_until_quiet_returns_without_running_anything_itself) {
  asio::io_context context(1);
  auto driver = make_multithread_driver(context, 1);
  std::atomic<bool> done{false};
  std::atomic<bool> on_caller{false};
  const auto caller = std::this_thread::get_id();
  asio::post(context, [&] {
    on_caller = std::this_thread::get_id() == caller;
    done = true;
    driver->notify();
  });
  driver->run_until_quiet();
  BOOST_TEST(driver->wait_until([&] { return done.load(); }, clock::now() + 5s));
  BOOST_TEST(!on_caller.load());
}

BOOST_AUTO_TEST_CASE(stop_joins_the_threads_and_may_be_called_twice) {
  asio::io_context context(2);
  auto driver = make_multithread_driver(context, 2);
  driver->stop();
  BOOST_TEST(driver->thread_count() == 0u);
  BOOST_TEST(context.stopped());
  BOOST_CHECK_NO_THROW(driver->stop());
}

BOOST_AUTO_TEST_CASE(many_handlers_all_run_across_the_pool) {
  asio::io_context context(2);
  auto driver = make_multithread_driver(context, 2);
  constexpr int kHandlers = 1000;
  std::atomic<int> ran{0};
  for (int i = 0; i < kHandlers; ++i) {
    asio::post(context, [&] {
      if (++ran == kHandlers) driver->notify();
    });
  }
  BOOST_TEST(driver->wait_until([&] { return ran.load() == kHandlers; }, clock::now() + 5s));
}

BOOST_AUTO_TEST_SUITE_END()
