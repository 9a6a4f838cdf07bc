// Port of Thespian's actor failure tests: an exception escaping receive() makes the system deliver
// the message once more (so a transient failure heals itself), an exception while handling
// ActorExitRequest does not keep the actor alive, and failures stay local to the failing actor.
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace actor_failures_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

struct Job {
  std::int64_t id = 0;
  template <class A> void serialize(A& ar) { ar(id); }
};
struct ChildGone {
  ActorAddress child;
  template <class A> void serialize(A& ar) { ar(child); }
};

// Fails the first delivery of every Job and succeeds the second.
class Flaky : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* job = m.get<Job>()) {
      ++deliveries_;
      if (tried_.insert(job->id).second) throw std::runtime_error("first try fails");
      send(from, "done " + std::to_string(job->id));
    } else if (is_text(m, "deliveries?")) {
      send(from, deliveries_);
    } else if (is_text(m, "ping")) {
      send(from, std::string("pong"));
    }
    co_return;
  }

 private:
  std::set<std::int64_t> tried_;
  std::int64_t deliveries_ = 0;
};

// Throws when asked to exit. It tells whoever sent "watch me" of every exit attempt and of its
// destruction (by message: on the multi-process bases it lives in another process).
class Stubborn : public thespian::Actor {
 public:
  ~Stubborn() override {
    if (watcher_) send(watcher_, std::string("destroyed"));
  }
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (m.is<thespian::ActorExitRequest>()) {
      if (watcher_) send(watcher_, std::string("exit attempt"));
      throw std::runtime_error("I will not go");
    }
    if (is_text(m, "watch me")) {
      watcher_ = from;
      send(from, std::string("watched"));
    }
    if (is_text(m, "ping")) send(from, std::string("pong"));
    co_return;
  }

 private:
  ActorAddress watcher_;
};

class Parent : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "spawn stubborn")) {
      reporter_ = from;
      child_ = create_actor<Stubborn>();
      send(from, child_);
    } else if (is_text(m, "stop child")) {
      send(child_, thespian::ActorExitRequest{});
    } else if (const auto* gone = m.get<thespian::ChildActorExited>()) {
      send(reporter_, ChildGone{gone->child});
    } else if (is_text(m, "ping")) {
      send(from, std::string("pong"));
    }
    co_return;
  }

 private:
  ActorAddress reporter_, child_;
};

}  // namespace actor_failures_test

THESPIAN_MESSAGE(actor_failures_test::Job);
THESPIAN_MESSAGE(actor_failures_test::ChildGone);

using namespace actor_failures_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(actor_failures, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(actor_that_throws_once_is_retried_and_succeeds) {
  auto flaky = sys.create_actor<Flaky>();
  BOOST_TEST(text_of(sys.ask(flaky, Job{1}, patience)) == "done 1");
  BOOST_TEST(!sys.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(retried_message_is_delivered_twice_and_state_changes_before_the_throw_are_kept) {
  auto flaky = sys.create_actor<Flaky>();
  BOOST_REQUIRE(text_of(sys.ask(flaky, Job{1}, patience)) == "done 1");
  BOOST_REQUIRE(text_of(sys.ask(flaky, Job{2}, patience)) == "done 2");
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(flaky, "deliveries?", patience)) == 4);
}

BOOST_AUTO_TEST_CASE(transient_failures_keep_message_order) {
  auto flaky = sys.create_actor<Flaky>();
  for (std::int64_t i = 0; i < 20; ++i) sys.tell(flaky, Job{i});
  for (std::int64_t i = 0; i < 20; ++i) {
    BOOST_TEST(text_of(sys.listen(patience)) == "done " + std::to_string(i));
  }
}

BOOST_AUTO_TEST_CASE(actor_whose_exit_handler_throws_still_exits_without_a_retry) {
  auto stubborn = sys.create_actor<Stubborn>();
  auto watcher = sys.private_context();
  BOOST_REQUIRE(text_of(watcher.ask(stubborn, "watch me", patience)) == "watched");
  sys.tell(stubborn, thespian::ActorExitRequest{});
  // One attempt (no retry), then the actor is destroyed, and nothing more.
  BOOST_TEST(text_of(watcher.listen(patience)) == "exit attempt");
  BOOST_TEST(text_of(watcher.listen(patience)) == "destroyed");
  BOOST_TEST(!watcher.listen(brief).has_value());
  BOOST_TEST(!sys.ask(stubborn, "ping", brief).has_value());
}

BOOST_AUTO_TEST_CASE(parent_hears_of_a_child_whose_exit_handler_threw) {
  auto parent = sys.create_actor<Parent>();
  auto child = reply_as<ActorAddress>(sys.ask(parent, "spawn stubborn", patience));
  BOOST_REQUIRE(text_of(sys.ask(child, "ping", patience)) == "pong");
  sys.tell(parent, "stop child");
  BOOST_TEST(reply_as<ChildGone>(sys.listen(patience)).child == child);
  BOOST_TEST(text_of(sys.ask(parent, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_CASE(failures_of_one_actor_do_not_disturb_another) {
  auto flaky = sys.create_actor<Flaky>();
  auto steady = sys.create_actor<thespian_test::echo_actor>();
  sys.tell(flaky, Job{1});
  BOOST_TEST(text_of(sys.listen(patience)) == "done 1");
  BOOST_TEST(text_of(sys.ask(steady, std::string("steady"), patience)) == "steady");
}

BOOST_AUTO_TEST_SUITE_END()
