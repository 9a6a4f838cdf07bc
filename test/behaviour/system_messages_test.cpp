// Port of Thespian's system message tests: ActorExitRequest reaches receive() and then the actor
// is gone, parents hear ChildActorExited for their children, actors may ask themselves to exit,
// and none of this machinery leaks to the external endpoint.
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace system_messages_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

// What a parent reports when it hears of a child's exit (system messages themselves are not
// meant for the external endpoint, so they are wrapped).
struct ChildGone {
  ActorAddress child;
  template <class A> void serialize(A& ar) { ar(child); }
};

// Reports its own exit request to whoever asked it to "watch".
class Watched : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "watch")) {
      reporter_ = from;
      send(from, std::string("watching"));
    } else if (is_text(m, "ping")) {
      send(from, std::string("pong"));
    } else if (is_text(m, "leave")) {
      send(my_address(), thespian::ActorExitRequest{});
    } else if (m.is<thespian::ActorExitRequest>() && reporter_) {
      send(reporter_, std::string("exiting"));
    }
    co_return;
  }

 private:
  ActorAddress reporter_;
};

class Parent : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "spawn")) {
      reporter_ = from;
      child_ = create_actor<Watched>();
      send(from, child_);
    } else if (is_text(m, "kill child")) {
      send(child_, thespian::ActorExitRequest{});
    } else if (is_text(m, "child leaves")) {
      send(child_, std::string("leave"));
    } else if (const auto* gone = m.get<thespian::ChildActorExited>()) {
      send(reporter_, ChildGone{gone->child});
    }
    co_return;
  }

 private:
  ActorAddress reporter_, child_;
};

}  // namespace system_messages_test

THESPIAN_MESSAGE(system_messages_test::ChildGone);

using namespace system_messages_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(system_messages, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(actor_exit_request_reaches_receive_before_the_actor_exits) {
  auto actor = sys.create_actor<Watched>();
  BOOST_REQUIRE(text_of(sys.ask(actor, "watch", patience)) == "watching");
  sys.tell(actor, thespian::ActorExitRequest{});
  BOOST_TEST(text_of(sys.listen(patience)) == "exiting");
}

BOOST_AUTO_TEST_CASE(actor_no_longer_answers_after_an_exit_request) {
  auto actor = sys.create_actor<Watched>();
  BOOST_REQUIRE(text_of(sys.ask(actor, "ping", patience)) == "pong");
  sys.tell(actor, thespian::ActorExitRequest{});
  BOOST_TEST(!sys.ask(actor, "ping", brief).has_value());
}

BOOST_AUTO_TEST_CASE(actor_can_send_an_exit_request_to_itself) {
  auto actor = sys.create_actor<Watched>();
  BOOST_REQUIRE(text_of(sys.ask(actor, "watch", patience)) == "watching");
  sys.tell(actor, "leave");
  BOOST_TEST(text_of(sys.listen(patience)) == "exiting");
  BOOST_TEST(!sys.ask(actor, "ping", brief).has_value());
}

BOOST_AUTO_TEST_CASE(parent_receives_child_actor_exited_naming_the_child_it_stopped) {
  auto parent = sys.create_actor<Parent>();
  auto child = reply_as<ActorAddress>(sys.ask(parent, "spawn", patience));
  BOOST_REQUIRE(text_of(sys.ask(child, "ping", patience)) == "pong");
  sys.tell(parent, "kill child");
  BOOST_TEST(reply_as<ChildGone>(sys.listen(patience)).child == child);
}

BOOST_AUTO_TEST_CASE(parent_receives_child_actor_exited_when_the_child_leaves_on_its_own) {
  auto parent = sys.create_actor<Parent>();
  auto child = reply_as<ActorAddress>(sys.ask(parent, "spawn", patience));
  sys.tell(parent, "child leaves");
  BOOST_TEST(reply_as<ChildGone>(sys.listen(patience)).child == child);
}

BOOST_AUTO_TEST_CASE(parent_receives_child_actor_exited_when_someone_else_stops_the_child) {
  auto parent = sys.create_actor<Parent>();
  auto child = reply_as<ActorAddress>(sys.ask(parent, "spawn", patience));
  sys.tell(child, thespian::ActorExitRequest{});
  BOOST_TEST(reply_as<ChildGone>(sys.listen(patience)).child == child);
}

BOOST_AUTO_TEST_CASE(top_level_actor_exit_sends_nothing_to_the_external_endpoint) {
  auto actor = sys.create_actor<Watched>();
  BOOST_REQUIRE(text_of(sys.ask(actor, "ping", patience)) == "pong");
  sys.tell(actor, thespian::ActorExitRequest{});
  auto anything = sys.listen(brief);
  BOOST_TEST(!anything.has_value(), "unexpected " << text_of(anything));
}

BOOST_AUTO_TEST_CASE(a_second_exit_request_to_an_exited_actor_is_harmless) {
  auto actor = sys.create_actor<Watched>();
  auto other = sys.create_actor<Watched>();
  sys.tell(actor, thespian::ActorExitRequest{});
  BOOST_CHECK_NO_THROW(sys.tell(actor, thespian::ActorExitRequest{}));
  BOOST_TEST(text_of(sys.ask(other, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_SUITE_END()
