// multiprocQueueBase end to end: every actor in a process of its own, created through the admin
// process, messages over UNIX sockets. Each case checks what a user relies on (replies, order,
// children, ChildActorExited when a process dies) and that shutdown() leaves no process behind.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "multiproc_helpers.hpp"

namespace multiproc_queue_test {

using namespace multiproc_test;

// One system per case; after its shutdown no process of it may be left.
struct queue_system {
  thespian::ActorSystem sys{"multiprocQueueBase"};
  ~queue_system() {
    sys.shutdown();
    BOOST_CHECK_MESSAGE(eventually([] { return descendants().empty(); }),
                        "processes left after shutdown: " << descendants().size());
  }
};

// Logs "hello from <pid>" at WARNING on "log" and answers "logged".
class Chatty : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "log")) {
      log().warning("hello from " + std::to_string(::getpid()));
      send(from, std::string("logged"));
    } else if (is_text(m, "pid")) {
      send(from, Pid{::getpid()});
    }
    co_return;
  }
};

// On an exit request, tells its witness "exiting" (then exits).
class Witnessed : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "watch")) {
      witness_ = from;
      send(from, std::string("watching"));
    } else if (m.is<thespian::ActorExitRequest>()) {
      if (witness_) send(witness_, std::string("exiting"));
    } else if (is_text(m, "pid")) {
      send(from, Pid{::getpid()});
    }
    co_return;
  }

 private:
  ActorAddress witness_;
};

// Sends every message back to its sender, ActorExitRequest included: at shutdown the admin
// asks it to exit, and it asks the admin to exit in turn, well before its own exit is known.
class EchoEverything : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (from) send(from, m);
    if (m.is<thespian::ActorExitRequest>()) {
      // Waits on a timer, not in sleep_for: the one thread of an actor process also carries
      // its I/O, so a sleeping handler would hold back the echo (its connect) until it returns.
      asio::steady_timer linger(co_await asio::this_coro::executor, std::chrono::milliseconds(300));
      co_await linger.async_wait(asio::use_awaitable);
    }
    co_return;
  }
};

}  // namespace multiproc_queue_test

using namespace multiproc_queue_test;

// Its constructor throws: its creation must fail, and only its own.
class Refuses : public thespian::Actor {
 public:
  Refuses() { throw std::runtime_error("refused on purpose"); }
  asio::awaitable<void> receive(Message, ActorAddress) override { co_return; }
};

// On "spawn N": creates N Where children at once (each create returns at once).
class Burst : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* n = m.get<std::int64_t>()) {
      for (std::int64_t i = 0; i < *n; ++i) create_actor<Where>();
      send(from, std::string("spawned"));
    }
    co_return;
  }
};

BOOST_FIXTURE_TEST_SUITE(multiproc_queue, queue_system)

BOOST_AUTO_TEST_CASE(an_actor_runs_in_its_own_process_and_answers) {
  auto where = sys.create_actor<Where>();
  BOOST_TEST(where.to_string().find("unix:") != std::string::npos);
  auto reply = sys.ask(where, std::string("pid"), patience);
  BOOST_REQUIRE(reply.has_value());
  const auto pid = reply->as<Pid>().value;
  BOOST_TEST(pid != ::getpid());
  BOOST_TEST(descendants().contains(static_cast<pid_t>(pid)));
  auto echo = sys.ask(where, std::string("hello"), patience);
  BOOST_REQUIRE(echo.has_value());
  BOOST_TEST(is_text(*echo, "hello"));
}

BOOST_AUTO_TEST_CASE(messages_from_one_sender_arrive_in_order) {
  auto where = sys.create_actor<Where>();
  for (int i = 0; i < 200; ++i) sys.tell(where, std::to_string(i));
  for (int i = 0; i < 200; ++i) {
    auto reply = sys.listen(patience);
    BOOST_REQUIRE(reply.has_value());
    BOOST_REQUIRE_MESSAGE(is_text(*reply, std::to_string(i)), "reply " << i << " out of order");
  }
}

BOOST_AUTO_TEST_CASE(two_actors_are_two_processes) {
  auto a = sys.create_actor<Where>();
  auto b = sys.create_actor<Where>();
  BOOST_TEST(a != b);
  auto pa = sys.ask(a, std::string("pid"), patience);
  auto pb = sys.ask(b, std::string("pid"), patience);
  BOOST_REQUIRE(pa && pb);
  BOOST_TEST(pa->as<Pid>().value != pb->as<Pid>().value);
}

// The admin starts processes concurrently: creations from several threads at once each get an
// actor of their own that runs, and a constructor that throws fails only its own creation.
BOOST_AUTO_TEST_CASE(creations_from_several_threads_at_once_each_get_their_own_actor) {
  constexpr int threads = 4;
  constexpr int each = 5;
  std::vector<std::vector<std::int64_t>> pids(threads);
  std::atomic<int> refused{0};
  std::vector<std::thread> creators;
  for (int t = 0; t < threads; ++t) {
    creators.emplace_back([this, t, &pids, &refused] {
      auto context = sys.private_context();
      for (int i = 0; i < each; ++i) {
        if (i == 2) {
          try {
            context.create_actor<Refuses>();
          } catch (const thespian::InvalidActorSpecification& e) {
            if (std::string(e.what()).find("refused on purpose") != std::string::npos) ++refused;
          }
        }
        auto actor = context.create_actor<Where>();
        auto reply = context.ask(actor, std::string("pid"), patience);
        pids[t].push_back(reply && reply->is<Pid>() ? reply->as<Pid>().value : -1);
      }
    });
  }
  for (auto& c : creators) c.join();
  BOOST_TEST(refused.load() == threads);
  std::set<std::int64_t> distinct;
  for (const auto& list : pids) {
    for (auto pid : list) {
      BOOST_TEST(pid > 0);
      distinct.insert(pid);
    }
  }
  BOOST_TEST(distinct.size() == static_cast<std::size_t>(threads * each));
}

// A burst of creations keeps the admin busy while the processes answer: every one of them must
// still be seen as started (the admin counts it) well before the 30 s start limit.
BOOST_AUTO_TEST_CASE(a_burst_of_children_created_by_an_actor_all_start) {
  constexpr std::int64_t children = 40;
  auto burst = sys.create_actor<Burst>();
  auto reply = sys.ask(burst, children, patience);
  BOOST_REQUIRE(reply.has_value());
  const auto expected = static_cast<std::size_t>(children + 1);
  std::size_t seen = 0;
  BOOST_TEST(eventually([&] { return (seen = sys.status().actor_count) == expected; }),
             "actors the admin counts: " << seen << " of " << expected);
}

BOOST_AUTO_TEST_CASE(a_child_created_by_an_actor_runs_and_answers) {
  auto parent = sys.create_actor<Parent>();
  auto reply = sys.ask(parent, std::string("spawn"), patience);
  BOOST_REQUIRE(reply.has_value());
  const auto child = reply->as<ActorAddress>();
  auto child_pid = sys.ask(child, std::string("pid"), patience);
  auto parent_pid = sys.ask(parent, std::string("pid"), patience);
  BOOST_REQUIRE(child_pid && parent_pid);
  BOOST_TEST(child_pid->as<Pid>().value != parent_pid->as<Pid>().value);
}

BOOST_AUTO_TEST_CASE(a_killed_child_is_reported_to_its_parent) {
  auto parent = sys.create_actor<Parent>();
  auto reply = sys.ask(parent, std::string("spawn"), patience);
  BOOST_REQUIRE(reply.has_value());
  const auto child = reply->as<ActorAddress>();
  auto child_pid = sys.ask(child, std::string("pid"), patience);
  BOOST_REQUIRE(child_pid.has_value());
  BOOST_REQUIRE(::kill(static_cast<pid_t>(child_pid->as<Pid>().value), SIGKILL) == 0);
  auto report = sys.listen(patience);
  BOOST_REQUIRE_MESSAGE(report.has_value(), "the parent was not told that its child died");
  BOOST_TEST(is_text(*report, "child exited: " + child.to_string()));
}

BOOST_AUTO_TEST_CASE(a_child_that_calls_exit_is_reported_to_its_parent) {
  auto parent = sys.create_actor<Parent>();
  auto reply = sys.ask(parent, std::string("spawn"), patience);
  BOOST_REQUIRE(reply.has_value());
  const auto child = reply->as<ActorAddress>();
  sys.tell(child, std::string("exit"));
  auto report = sys.listen(patience);
  BOOST_REQUIRE(report.has_value());
  BOOST_TEST(is_text(*report, "child exited: " + child.to_string()));
}

BOOST_AUTO_TEST_CASE(a_child_exiting_on_request_is_reported_once) {
  auto parent = sys.create_actor<Parent>();
  auto reply = sys.ask(parent, std::string("spawn"), patience);
  BOOST_REQUIRE(reply.has_value());
  const auto child = reply->as<ActorAddress>();
  sys.tell(child, thespian::ActorExitRequest{});
  auto report = sys.listen(patience);
  BOOST_REQUIRE(report.has_value());
  BOOST_TEST(is_text(*report, "child exited: " + child.to_string()));
  BOOST_TEST(!sys.listen(300ms).has_value());
}

BOOST_AUTO_TEST_CASE(messages_to_a_killed_actor_become_dead_letters) {
  auto undertaker = sys.create_actor<Undertaker>();
  BOOST_REQUIRE(is_text(sys.ask(undertaker, std::string("register"), patience).value_or(Message{}),
                        "registered"));
  BOOST_REQUIRE(eventually([&] { return sys.status().dead_letter_handler == undertaker; }));
  auto where = sys.create_actor<Where>();
  auto pid = sys.ask(where, std::string("pid"), patience);
  BOOST_REQUIRE(pid.has_value());
  BOOST_REQUIRE(::kill(static_cast<pid_t>(pid->as<Pid>().value), SIGKILL) == 0);
  sys.tell(where, std::string("after death"));
  auto report = sys.listen(patience);
  BOOST_REQUIRE_MESSAGE(report.has_value(), "the message to the dead actor was not a dead letter");
  BOOST_TEST(is_text(*report, "dead letter: after death"));
}

BOOST_AUTO_TEST_CASE(an_unregistered_message_type_is_refused_clearly) {
  struct Local {
    int x = 0;
  };
  auto where = sys.create_actor<Where>();
  BOOST_CHECK_EXCEPTION(sys.tell(where, Local{1}), thespian::UnserializableMessage,
                        [](const auto& e) { return std::string(e.what()).find("THESPIAN_MESSAGE") != std::string::npos; });
}

// An async_ask whose request cannot leave (its type is not registered) has one outcome, that
// error, delivered to its handler: no exception from the call (an asio initiation that throws
// ends the program under use_awaitable) and no second completion at the timeout.
BOOST_AUTO_TEST_CASE(an_async_ask_that_cannot_be_sent_completes_once_with_the_error) {
  struct Local {
    int x = 0;
  };
  auto where = sys.create_actor<Where>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto error = std::make_shared<std::promise<std::exception_ptr>>();
  auto first = error->get_future();
  BOOST_CHECK_NO_THROW(sys.async_ask(where, Local{1}, 300ms,
                                     [calls, error](std::exception_ptr e, std::optional<Message>) {
                                       if (calls->fetch_add(1) == 0) error->set_value(e);
                                     }));
  BOOST_REQUIRE(first.wait_for(patience) == std::future_status::ready);
  BOOST_CHECK_THROW(std::rethrow_exception(first.get()), thespian::UnserializableMessage);
  // Past the ask's timeout: still exactly one completion.
  std::this_thread::sleep_for(600ms);
  BOOST_TEST(calls->load() == 1);
}

BOOST_AUTO_TEST_CASE(sigterm_to_the_admin_shuts_the_system_down_in_order) {
  auto actor = sys.create_actor<Witnessed>();
  auto witness = sys.private_context();
  BOOST_REQUIRE(is_text(witness.ask(actor, std::string("watch"), patience).value_or(Message{}),
                        "watching"));
  auto pid = sys.ask(actor, std::string("pid"), patience);
  BOOST_REQUIRE(pid.has_value());
  const pid_t admin = child_of_ours_above(static_cast<pid_t>(pid->as<Pid>().value));
  BOOST_REQUIRE(admin > 1);
  BOOST_REQUIRE(admin != static_cast<pid_t>(pid->as<Pid>().value));
  BOOST_REQUIRE(::kill(admin, SIGTERM) == 0);
  // In order: the actor is asked to exit (not merely killed with its admin).
  BOOST_TEST(is_text(witness.listen(patience).value_or(Message{}), "exiting"));
  BOOST_TEST(eventually([] { return live_descendants().size() <= 1; }));  // the logger stays
  // The fixture's shutdown() finds the admin gone and does not wait for an answer.
}

BOOST_AUTO_TEST_CASE(shutdown_ends_every_actor_process) {
  std::vector<ActorAddress> actors;
  for (int i = 0; i < 4; ++i) actors.push_back(sys.create_actor<Parent>());
  for (const auto& a : actors) {
    auto r = sys.ask(a, std::string("spawn"), patience);
    BOOST_REQUIRE(r.has_value());
    BOOST_REQUIRE(sys.ask(r->as<ActorAddress>(), std::string("pid"), patience).has_value());
  }
  // The admin, 4 parents and 4 children at least (and the admin's forkserver).
  BOOST_TEST(descendants().size() >= 9u);
  // The fixture's destructor shuts down and checks that nothing is left.
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(multiproc_queue_logging)

// The admin ends only with its system: an ActorExitRequest from an actor is ignored (and
// logged), so the shutdown it is running completes and is confirmed.
BOOST_AUTO_TEST_CASE(an_actor_cannot_make_the_admin_exit) {
  warning_collector warnings;
  {
    thespian::ActorSystem sys("multiprocQueueBase", {}, warnings.options());
    auto echo = sys.create_actor<EchoEverything>();
    BOOST_REQUIRE(is_text(sys.ask(echo, std::string("hi"), patience).value_or(Message{}), "hi"));
    sys.shutdown();
  }
  BOOST_TEST(eventually([] { return descendants().empty(); }));
  // Had the admin exited, shutdown() would have waited out its limit and said so.
  BOOST_TEST(check_admin_shut_down_in_order(warnings.texts()),
             "the admin did not report the ActorExitRequest it ignored");
}

// The logger process writes every process's records to the creating program's log file and
// hands those at or above its sink threshold to its SystemOptions::log_sink; SIGUSR1 makes an
// actor process log its status there too.
BOOST_AUTO_TEST_CASE(actor_records_reach_the_file_and_the_sink_and_sigusr1_logs_status) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("thespian-multiproc-log-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  auto seen = std::make_shared<std::vector<thespian::LogRecord>>();
  auto seen_mutex = std::make_shared<std::mutex>();
  thespian::SystemOptions options;
  options.log_file = path.string();
  options.log_threshold = "INFO";
  options.sink_threshold = thespian::LogLevel::warning;
  options.log_sink = [seen, seen_mutex](const thespian::LogRecord& r) {
    std::lock_guard lock(*seen_mutex);
    seen->push_back(r);
  };
  {
    thespian::ActorSystem sys("multiprocQueueBase", {}, options);
    auto chatty = sys.create_actor<Chatty>();
    auto pid_reply = sys.ask(chatty, std::string("pid"), patience);
    BOOST_REQUIRE(pid_reply.has_value());
    const auto pid = pid_reply->as<Pid>().value;
    const std::string hello = "hello from " + std::to_string(pid);
    BOOST_REQUIRE(sys.ask(chatty, std::string("log"), patience).has_value());
    BOOST_TEST(eventually([&] {
      std::lock_guard lock(*seen_mutex);
      for (const auto& r : *seen) {
        if (r.text == hello && r.source == chatty.to_string()) return true;
      }
      return false;
    }), "the sink never saw the actor's record");
    BOOST_TEST(eventually([&] { return file_text(path).find(hello) != std::string::npos; }),
               "the log file never got the actor's record");
    BOOST_REQUIRE(::kill(static_cast<pid_t>(pid), SIGUSR1) == 0);
    const std::string status = "actor process " + std::to_string(pid) + " status (SIGUSR1)";
    BOOST_TEST(eventually([&] { return file_text(path).find(status) != std::string::npos; }),
               "SIGUSR1 did not log the actor process's status");
    sys.shutdown();
  }
  BOOST_TEST(eventually([] { return descendants().empty(); }));
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()
