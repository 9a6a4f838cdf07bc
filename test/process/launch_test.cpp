// Starting actor processes by each Process Startup Method: the child answers over its socket,
// its end reaches the parent at once with the right status, a bad bootstrap fails clearly.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <memory>
#include <optional>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "support.hpp"
#include "system/process/child_guard.hpp"
#include "system/process/exit_watcher.hpp"
#include "system/process/fork_launcher.hpp"
#include "system/process/forkserver.hpp"
#include "system/process/process_launcher.hpp"
#include "system/process/spawn_launcher.hpp"
#include "thespian/errors.hpp"

namespace process_test {
namespace {

namespace proc = thespian::detail::process;
using proc::startup_method;

constexpr startup_method all_methods[] = {startup_method::spawn, startup_method::fork,
                                          startup_method::forkserver};

// Whether this test can use `method` now (see fork_possible_here()).
bool usable(startup_method method) {
  return method == startup_method::spawn || fork_possible_here();
}

// Starts a child by `method`; forkserver children come from a test-local forkserver (started
// on first use and stopped with `server`), so each test ends with no helper left.
proc::child_process launch(startup_method method, std::shared_ptr<proc::forkserver>& server) {
  switch (method) {
    case startup_method::spawn: return proc::spawn_actor_process();
    case startup_method::fork: return proc::fork_actor_process();
    case startup_method::forkserver:
      if (!server) server = proc::forkserver::start();
      return server->launch();
  }
  throw std::logic_error("unknown method");
}

void start_host(proc::child_process& child, std::string entry, std::string argument = {}) {
  proc::bootstrap_request request{std::move(entry), std::move(argument)};
  proc::start_actor_host(child, request, clock_type::now() + generous);
}

proc::exit_status killed_by(int signal) {
  proc::exit_status s;
  s.how = proc::exit_status::kind::killed;
  s.signal = signal;
  return s;
}

proc::exit_status exited_with(int code) {
  proc::exit_status s;
  s.code = code;
  return s;
}

// The status an exit_watcher reports for `child` after `act` ran, within `generous`.
template <class Act>
std::optional<proc::exit_status> watched_exit(proc::child_process child, Act act) {
  asio::io_context io;
  std::optional<proc::exit_status> seen;
  auto watcher = proc::exit_watcher::start(
      io.get_executor(), std::move(child),
      [&seen](std::error_code ec, const proc::exit_status& status) {
        BOOST_TEST(!ec, ec.message());
        if (!ec) seen = status;
      });
  act(watcher->child());
  io.run_for(generous);
  return seen;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(process_launch, no_leftover_children)

BOOST_AUTO_TEST_CASE(a_child_of_each_method_answers_over_its_socket_and_ends_when_it_closes) {
  for (auto method : all_methods) {
    if (!usable(method)) continue;
    BOOST_TEST_CONTEXT("method " << proc::name_of(method)) {
      std::shared_ptr<proc::forkserver> server;
      auto child = launch(method, server);
      BOOST_TEST(child.pid() > 0);
      start_host(child, "process_test.echo");
      send_text(child.socket(), "ping");
      BOOST_TEST(receive_text(child.socket(), clock_type::now() + generous) == "echo:ping");
      send_text(child.socket(), "again");
      BOOST_TEST(receive_text(child.socket(), clock_type::now() + generous) == "echo:again");
      // The liveness check: EOF on the socket means the parent is gone, and the child ends.
      child.take_socket().reset();
      const auto status = child.wait_until(clock_type::now() + generous);
      BOOST_TEST_REQUIRE(status.has_value());
      BOOST_TEST(status->describe() == exited_with(0).describe());
    }
  }
}

// A sibling started later must hold no copy of the first child's parent-end socket: it would
// hide the parent's close (the liveness check) from the first child.
BOOST_AUTO_TEST_CASE(a_child_sees_its_parent_close_even_while_a_later_sibling_runs) {
  for (auto method : all_methods) {
    if (!usable(method)) continue;
    BOOST_TEST_CONTEXT("method " << proc::name_of(method)) {
      std::shared_ptr<proc::forkserver> server;
      auto first = launch(method, server);
      start_host(first, "process_test.echo");
      auto second = launch(method, server);
      start_host(second, "process_test.echo");
      first.take_socket().reset();
      const auto status = first.wait_until(clock_type::now() + generous);
      BOOST_TEST_REQUIRE(status.has_value(), "the first child did not see its parent close");
      BOOST_TEST(status->describe() == exited_with(0).describe());
      send_text(second.socket(), "still here");
      BOOST_TEST(receive_text(second.socket(), clock_type::now() + generous) == "echo:still here");
    }
  }
}

BOOST_AUTO_TEST_CASE(sigkill_to_a_child_reaches_the_exit_watcher_with_the_signal) {
  for (auto method : all_methods) {
    if (!usable(method)) continue;
    BOOST_TEST_CONTEXT("method " << proc::name_of(method)) {
      std::shared_ptr<proc::forkserver> server;
      auto child = launch(method, server);
      start_host(child, "process_test.sleep_forever");
      const auto status = watched_exit(std::move(child), [](proc::child_process& c) {
        BOOST_TEST_REQUIRE(c.signal(SIGKILL));
      });
      BOOST_TEST_REQUIRE(status.has_value(), "no exit notification within the deadline");
      BOOST_TEST(status->describe() == killed_by(SIGKILL).describe());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_child_exit_code_reaches_the_exit_watcher) {
  for (auto method : all_methods) {
    if (!usable(method)) continue;
    BOOST_TEST_CONTEXT("method " << proc::name_of(method)) {
      std::shared_ptr<proc::forkserver> server;
      auto child = launch(method, server);
      start_host(child, "process_test.exit_with", "7");
      const auto status = watched_exit(std::move(child), [](proc::child_process&) {});
      BOOST_TEST_REQUIRE(status.has_value(), "no exit notification within the deadline");
      BOOST_TEST(status->describe() == exited_with(7).describe());
    }
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_host_entry_fails_with_invalid_actor_specification_naming_it) {
  for (auto method : all_methods) {
    if (!usable(method)) continue;
    BOOST_TEST_CONTEXT("method " << proc::name_of(method)) {
      std::shared_ptr<proc::forkserver> server;
      auto child = launch(method, server);
      BOOST_CHECK_EXCEPTION(start_host(child, "app::NoSuchActor"),
                            thespian::InvalidActorSpecification,
                            [](const thespian::InvalidActorSpecification& e) {
                              return std::string(e.what()).find("'app::NoSuchActor'") !=
                                     std::string::npos;
                            });
      const auto status = child.wait_until(clock_type::now() + generous);
      BOOST_TEST_REQUIRE(status.has_value());
      BOOST_TEST(status->describe() == exited_with(proc::host_exit_unknown_entry).describe());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_registered_actor_type_is_hosted_until_the_parent_closes_the_socket) {
  std::shared_ptr<proc::forkserver> server;
  auto child = launch(startup_method::spawn, server);
  start_host(child, "process_test::idle_actor");
  BOOST_TEST(!child.try_wait().has_value(), "the host ended while its parent was there");
  child.take_socket().reset();
  const auto status = child.wait_until(clock_type::now() + generous);
  BOOST_TEST_REQUIRE(status.has_value());
  BOOST_TEST(status->describe() == exited_with(0).describe());
}

BOOST_AUTO_TEST_CASE(an_actor_constructor_that_throws_fails_with_the_type_and_the_reason) {
  if (!usable(startup_method::fork)) return;
  std::shared_ptr<proc::forkserver> server;
  auto child = launch(startup_method::fork, server);
  BOOST_CHECK_EXCEPTION(start_host(child, "process_test::throwing_actor"),
                        thespian::InvalidActorSpecification,
                        [](const thespian::InvalidActorSpecification& e) {
                          const std::string what = e.what();
                          return what.find("process_test::throwing_actor") != std::string::npos &&
                                 what.find("no GPU here") != std::string::npos;
                        });
  const auto status = child.wait_until(clock_type::now() + generous);
  BOOST_TEST_REQUIRE(status.has_value());
  BOOST_TEST(status->describe() == exited_with(proc::host_exit_failed).describe());
}

BOOST_AUTO_TEST_CASE(a_malformed_bootstrap_request_is_refused_and_ends_the_child) {
  std::shared_ptr<proc::forkserver> server;
  auto child = launch(startup_method::spawn, server);
  const std::string garbage = "GET / HTTP/1.1\r\n\r\n";
  proc::write_all(child.socket(), std::as_bytes(std::span(garbage)), clock_type::now() + generous);
  const auto reply = proc::read_bootstrap_reply(child.socket(), clock_type::now() + generous);
  BOOST_TEST_REQUIRE(reply.value.has_value());
  BOOST_TEST(static_cast<int>(reply.value->result) ==
             static_cast<int>(proc::bootstrap_reply::outcome::bad_request));
  BOOST_TEST(reply.value->detail.find("bad frame magic") != std::string::npos, reply.value->detail);
  const auto status = child.wait_until(clock_type::now() + generous);
  BOOST_TEST_REQUIRE(status.has_value());
  BOOST_TEST(status->describe() == exited_with(proc::host_exit_bad_bootstrap).describe());
}

BOOST_AUTO_TEST_CASE(a_cancelled_exit_watcher_reports_aborted_and_its_child_is_still_reaped) {
  std::shared_ptr<proc::forkserver> server;
  auto child = launch(startup_method::spawn, server);
  start_host(child, "process_test.sleep_forever");
  const pid_t pid = child.pid();
  asio::io_context io;
  std::optional<std::error_code> seen;
  {
    auto watcher = proc::exit_watcher::start(
        io.get_executor(), std::move(child),
        [&seen](std::error_code ec, const proc::exit_status&) { seen = ec; });
    watcher->cancel();
  }
  io.run_for(generous);
  BOOST_TEST_REQUIRE(seen.has_value(), "the handler never ran");
  BOOST_TEST((*seen == asio::error::operation_aborted), seen->message());
  // The watcher owned the child: gone with it, killed and reaped (the fixture checks too).
  BOOST_TEST(::waitpid(pid, nullptr, WNOHANG) == -1);
}

BOOST_AUTO_TEST_CASE(a_dropped_child_process_is_killed_and_reaped) {
  pid_t pid = -1;
  {
    std::shared_ptr<proc::forkserver> server;
    auto child = launch(startup_method::spawn, server);
    start_host(child, "process_test.sleep_forever");
    pid = child.pid();
  }
  // Reaped: no longer our child (the fixture checks too), and waitpid has nothing to collect.
  BOOST_TEST(::waitpid(pid, nullptr, WNOHANG) == -1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace process_test
