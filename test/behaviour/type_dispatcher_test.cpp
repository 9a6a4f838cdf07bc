// Port of Thespian's ActorTypeDispatcher tests: each listed type goes to its on() overload (plain
// or awaitable), system messages can be listed too, routing is by exact type, and anything else
// goes to on_unrecognized (the default one drops and counts).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace type_dispatcher_test {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;

struct Greeting {
  std::string who;
  template <class A> void serialize(A& ar) { ar(who); }
};
// A Greeting by inheritance only: routing is by exact type, so it is not a Greeting.
struct FancyGreeting : Greeting {
  template <class A> void serialize(A& ar) { ar(who); }
};
struct Question {
  std::string text;
  ActorAddress oracle;
  template <class A> void serialize(A& ar) { ar(text, oracle); }
};
struct Arm {
  std::int64_t millis = 0;
  template <class A> void serialize(A& ar) { ar(millis); }
};
struct Woke {
  std::int64_t delay_ms = 0;
  std::string payload;
  template <class A> void serialize(A& ar) { ar(delay_ms, payload); }
};
struct Watch {
  template <class A> void serialize(A&) {}
};
struct Unrecognized {
  std::string type_name;
  template <class A> void serialize(A& ar) { ar(type_name); }
};
struct Spawn {
  template <class A> void serialize(A&) {}
};
struct ChildGone {
  ActorAddress child;
  template <class A> void serialize(A& ar) { ar(child); }
};
struct CountQuery {
  template <class A> void serialize(A&) {}
};

class Oracle : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* q = m.get<std::string>()) send(from, "the oracle says yes to " + *q);
    co_return;
  }
};

class Dispatching
    : public thespian::ActorTypeDispatcher<Dispatching, Greeting, Question, Arm, Watch, Spawn,
                                           thespian::WakeupMessage, thespian::ActorExitRequest,
                                           thespian::ChildActorExited> {
 public:
  void on(const Greeting& g, const ActorAddress& from) { send(from, "hello, " + g.who); }

  // An awaitable handler: asks the oracle and passes its answer on.
  asio::awaitable<void> on(Question q, ActorAddress from) {
    auto answer = co_await ask(q.oracle, q.text, std::chrono::seconds(5));
    send(from, answer ? *answer : Message(std::string("no answer")));
  }

  void on(const Arm& a, const ActorAddress& from) {
    reporter_ = from;
    wakeup_after(std::chrono::milliseconds(a.millis), std::string("alarm"));
  }

  void on(const thespian::WakeupMessage& w, const ActorAddress& from) {
    const auto* payload = w.payload.get<std::string>();
    send(reporter_, Woke{std::chrono::duration_cast<std::chrono::milliseconds>(w.delay).count(),
                         payload ? *payload : std::string()});
  }

  void on(const Watch&, const ActorAddress& from) {
    reporter_ = from;
    send(from, std::string("watching"));
  }

  void on(const Spawn&, const ActorAddress& from) {
    reporter_ = from;
    auto child = create_actor<Oracle>();
    send(from, child);
    send(child, thespian::ActorExitRequest{});
  }

  void on(const thespian::ChildActorExited& c, const ActorAddress&) {
    send(reporter_, ChildGone{c.child});
  }

  void on(const thespian::ActorExitRequest&, const ActorAddress&) {
    if (reporter_) send(reporter_, std::string("goodbye"));
  }

  // Hides the default: tells the sender what it could not handle.
  void on_unrecognized(const Message& m, const ActorAddress& from) {
    send(from, Unrecognized{m.type_name()});
  }

 private:
  ActorAddress reporter_;
};

// Uses the default on_unrecognized, which drops and counts.
class Counting : public thespian::ActorTypeDispatcher<Counting, CountQuery, Greeting> {
 public:
  void on(const CountQuery&, const ActorAddress& from) {
    send(from, static_cast<std::int64_t>(unrecognized_count()));
  }
  void on(const Greeting& g, const ActorAddress& from) { send(from, "hi, " + g.who); }
};

}  // namespace type_dispatcher_test

THESPIAN_MESSAGE(type_dispatcher_test::Greeting);
THESPIAN_MESSAGE(type_dispatcher_test::FancyGreeting);
THESPIAN_MESSAGE(type_dispatcher_test::Question);
THESPIAN_MESSAGE(type_dispatcher_test::Arm);
THESPIAN_MESSAGE(type_dispatcher_test::Woke);
THESPIAN_MESSAGE(type_dispatcher_test::Watch);
THESPIAN_MESSAGE(type_dispatcher_test::Unrecognized);
THESPIAN_MESSAGE(type_dispatcher_test::Spawn);
THESPIAN_MESSAGE(type_dispatcher_test::ChildGone);
THESPIAN_MESSAGE(type_dispatcher_test::CountQuery);

using namespace type_dispatcher_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(type_dispatcher, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(listed_type_is_routed_to_its_on_overload) {
  auto actor = sys.create_actor<Dispatching>();
  BOOST_TEST(text_of(sys.ask(actor, Greeting{"Juliet"}, patience)) == "hello, Juliet");
}

BOOST_AUTO_TEST_CASE(awaitable_on_overload_is_awaited_to_completion) {
  auto actor = sys.create_actor<Dispatching>();
  auto oracle = sys.create_actor<Oracle>();
  BOOST_TEST(text_of(sys.ask(actor, Question{"tea?", oracle}, patience)) ==
             "the oracle says yes to tea?");
}

BOOST_AUTO_TEST_CASE(wakeup_message_can_be_listed_and_is_routed) {
  auto actor = sys.create_actor<Dispatching>();
  sys.tell(actor, Arm{20});
  auto woke = reply_as<Woke>(sys.listen(patience));
  BOOST_TEST(woke.delay_ms == 20);
  BOOST_TEST(woke.payload == "alarm");
}

BOOST_AUTO_TEST_CASE(child_actor_exited_can_be_listed_and_is_routed) {
  auto actor = sys.create_actor<Dispatching>();
  auto child = reply_as<ActorAddress>(sys.ask(actor, Spawn{}, patience));
  BOOST_TEST(reply_as<ChildGone>(sys.listen(patience)).child == child);
}

BOOST_AUTO_TEST_CASE(actor_exit_request_can_be_listed_and_is_routed_before_exit) {
  auto actor = sys.create_actor<Dispatching>();
  BOOST_REQUIRE(text_of(sys.ask(actor, Watch{}, patience)) == "watching");
  sys.tell(actor, thespian::ActorExitRequest{});
  BOOST_TEST(text_of(sys.listen(patience)) == "goodbye");
  BOOST_TEST(!sys.ask(actor, Greeting{"anyone"}, brief).has_value());
}

BOOST_AUTO_TEST_CASE(unlisted_type_goes_to_the_derived_on_unrecognized) {
  auto actor = sys.create_actor<Dispatching>();
  auto reply = reply_as<Unrecognized>(sys.ask(actor, std::int64_t{42}, patience));
  BOOST_TEST(reply.type_name == thespian::Message(std::int64_t{42}).type_name());
}

BOOST_AUTO_TEST_CASE(routing_is_by_exact_type_not_by_base_class) {
  auto actor = sys.create_actor<Dispatching>();
  FancyGreeting fancy;
  fancy.who = "Romeo";
  auto reply = reply_as<Unrecognized>(sys.ask(actor, fancy, patience));
  BOOST_TEST(reply.type_name.find("FancyGreeting") != std::string::npos, reply.type_name);
}

BOOST_AUTO_TEST_CASE(default_on_unrecognized_drops_and_counts) {
  auto actor = sys.create_actor<Counting>();
  sys.tell(actor, std::string("one"));
  sys.tell(actor, std::int64_t{2});
  sys.tell(actor, 3.0);
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(actor, CountQuery{}, patience)) == 3);
  BOOST_TEST(text_of(sys.ask(actor, Greeting{"still here"}, patience)) == "hi, still here");
}

BOOST_AUTO_TEST_CASE(dispatched_messages_keep_their_order) {
  auto actor = sys.create_actor<Dispatching>();
  for (int i = 0; i < 50; ++i) sys.tell(actor, Greeting{std::to_string(i)});
  for (int i = 0; i < 50; ++i) {
    BOOST_TEST(text_of(sys.listen(patience)) == "hello, " + std::to_string(i));
  }
}

BOOST_AUTO_TEST_SUITE_END()
