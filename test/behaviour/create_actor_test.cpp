// Port of Thespian's create actor tests: by C++ type and by registered name, from outside and from
// inside an actor, and what happens with unknown names and constructors that throw.
#include <stdexcept>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace create_actor_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

class Named : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "who")) send(from, std::string("named"));
    co_return;
  }
};

class Grumpy : public thespian::Actor {
 public:
  Grumpy() { throw std::runtime_error("constructor refused: grumpy"); }
  asio::awaitable<void> receive(Message, ActorAddress) override { co_return; }
};

// Tries to use the system from its constructor, which it may not do.
class Hasty : public thespian::Actor {
 public:
  Hasty() {
    try {
      (void)my_address();
    } catch (const thespian::ActorSystemFailure&) {
      refused_ = true;
    }
  }
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "refused?")) send(from, refused_);
    co_return;
  }

 private:
  bool refused_ = false;
};

// Passes `text` to `reply_to`.
struct Relay {
  ActorAddress reply_to;
  std::string text;
  template <class A> void serialize(A& ar) { ar(reply_to, text); }
};
struct ChildGone {
  ActorAddress child;
  template <class A> void serialize(A& ar) { ar(child); }
};

class Relayer : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* r = m.get<Relay>()) send(r->reply_to, r->text);
    co_return;
  }
};

class Parent : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "spawn grumpy")) {
      reporter_ = from;
      send(from, create_actor<Grumpy>());
    } else if (is_text(m, "spawn and relay")) {
      auto child = create_actor<Relayer>();
      send(child, Relay{from, "relayed by a newborn child"});
    } else if (is_text(m, "spawn by name")) {
      auto child = create_actor("create_actor_test::Named");
      send(from, child);
    } else if (is_text(m, "spawn unknown")) {
      try {
        (void)create_actor("create_actor_test::NoSuchActor");
        send(from, std::string("no exception"));
      } catch (const thespian::InvalidActorSpecification& e) {
        send(from, std::string("caught: ") + e.what());
      }
    } else if (const auto* gone = m.get<thespian::ChildActorExited>()) {
      send(reporter_, ChildGone{gone->child});
    }
    co_return;
  }

 private:
  ActorAddress reporter_;
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace create_actor_test

THESPIAN_MESSAGE(create_actor_test::Relay);
THESPIAN_MESSAGE(create_actor_test::ChildGone);

THESPIAN_ACTOR(create_actor_test::Named);
THESPIAN_ACTOR(create_actor_test::Grumpy);

using namespace create_actor_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(create_actor, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(create_actor_by_type_returns_a_constructed_working_actor) {
  // Counted by the system (on the multi-process bases the actor lives in another process).
  const auto before = sys.status().actor_count;
  auto actor = sys.create_actor<Named>();
  BOOST_TEST(static_cast<bool>(actor));
  BOOST_TEST(sys.status().actor_count == before + 1);
  BOOST_TEST(text_of(sys.ask(actor, "who", patience)) == "named");
}

BOOST_AUTO_TEST_CASE(create_actor_by_registered_name_returns_a_working_actor) {
  auto actor = sys.create_actor("create_actor_test::Named");
  BOOST_TEST(static_cast<bool>(actor));
  BOOST_TEST(text_of(sys.ask(actor, "who", patience)) == "named");
}

BOOST_AUTO_TEST_CASE(private_context_creates_actors_by_name_too) {
  auto ctx = sys.private_context();
  auto actor = ctx.create_actor("create_actor_test::Named");
  BOOST_TEST(text_of(ctx.ask(actor, "who", patience)) == "named");
}

BOOST_AUTO_TEST_CASE(unknown_type_name_throws_invalid_actor_specification_naming_it) {
  try {
    (void)sys.create_actor("create_actor_test::NoSuchActor");
    BOOST_ERROR("create_actor of an unknown name did not throw");
  } catch (const thespian::InvalidActorSpecification& e) {
    BOOST_TEST(contains(e.what(), "create_actor_test::NoSuchActor"), "what(): " << e.what());
  }
}

BOOST_AUTO_TEST_CASE(throwing_constructor_outside_throws_invalid_actor_specification_naming_type_and_exception) {
  try {
    (void)sys.create_actor<Grumpy>();
    BOOST_ERROR("create_actor of a throwing constructor did not throw");
  } catch (const thespian::InvalidActorSpecification& e) {
    BOOST_TEST(contains(e.what(), "Grumpy"), "what(): " << e.what());
    BOOST_TEST(contains(e.what(), "constructor refused: grumpy"), "what(): " << e.what());
  }
}

BOOST_AUTO_TEST_CASE(throwing_constructor_created_by_name_throws_invalid_actor_specification) {
  try {
    (void)sys.create_actor("create_actor_test::Grumpy");
    BOOST_ERROR("create_actor of a throwing constructor did not throw");
  } catch (const thespian::InvalidActorSpecification& e) {
    BOOST_TEST(contains(e.what(), "Grumpy"), "what(): " << e.what());
    BOOST_TEST(contains(e.what(), "constructor refused: grumpy"), "what(): " << e.what());
  }
}

BOOST_AUTO_TEST_CASE(throwing_constructor_inside_an_actor_makes_the_parent_get_child_actor_exited) {
  auto parent = sys.create_actor<Parent>();
  auto child = reply_as<ActorAddress>(sys.ask(parent, "spawn grumpy", patience));
  BOOST_TEST(static_cast<bool>(child));
  BOOST_TEST(reply_as<ChildGone>(sys.listen(patience)).child == child);
}

BOOST_AUTO_TEST_CASE(messages_sent_to_a_child_right_after_creation_are_delivered) {
  auto parent = sys.create_actor<Parent>();
  BOOST_TEST(text_of(sys.ask(parent, "spawn and relay", patience)) == "relayed by a newborn child");
}

BOOST_AUTO_TEST_CASE(actor_creates_a_child_by_registered_name) {
  auto parent = sys.create_actor<Parent>();
  auto child = reply_as<ActorAddress>(sys.ask(parent, "spawn by name", patience));
  BOOST_TEST(child != parent);
  BOOST_TEST(text_of(sys.ask(child, "who", patience)) == "named");
}

BOOST_AUTO_TEST_CASE(unknown_type_name_inside_an_actor_throws_at_once) {
  auto parent = sys.create_actor<Parent>();
  const auto reply = text_of(sys.ask(parent, "spawn unknown", patience));
  BOOST_TEST(contains(reply, "caught: "), reply);
  BOOST_TEST(contains(reply, "create_actor_test::NoSuchActor"), reply);
}

BOOST_AUTO_TEST_CASE(calls_from_the_constructor_throw_actor_system_failure) {
  auto actor = sys.create_actor<Hasty>();
  BOOST_TEST(reply_as<bool>(sys.ask(actor, "refused?", patience)));
}

BOOST_AUTO_TEST_CASE(a_hundred_actors_are_created_and_all_answer) {
  std::vector<ActorAddress> actors;
  for (int i = 0; i < 100; ++i) actors.push_back(sys.create_actor<Named>());
  for (const auto& a : actors) sys.tell(a, "who");
  int answers = 0;
  for (int i = 0; i < 100; ++i) {
    if (thespian_test::is_text(sys.listen(patience), "named")) ++answers;
  }
  BOOST_TEST(answers == 100);
  BOOST_TEST(!sys.listen(brief).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
