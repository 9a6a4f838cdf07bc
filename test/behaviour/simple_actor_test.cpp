// Port of Thespian's simple actor tests: one actor created from outside and talked to with
// tell / ask / listen. The basic contract every other suite builds on.
#include <cstdint>
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace simple_actor_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

struct Point {
  std::int64_t x = 0, y = 0;
  friend bool operator==(const Point&, const Point&) = default;
  template <class A> void serialize(A& ar) { ar(x, y); }
};

class Hello : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "hi")) send(from, std::string("Hello, World!"));
    co_return;
  }
};

// Answers questions about itself.
class Introspective : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "address")) send(from, my_address());
    if (is_text(m, "name")) send(from, global_name());
    if (is_text(m, "sender")) send(from, from);
    co_return;
  }
};

class Counter : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "inc")) ++count_;
    if (is_text(m, "get")) send(from, count_);
    co_return;
  }

 private:
  std::int64_t count_ = 0;
};

// Moves a point and returns it: a user-defined struct travelling both ways.
class Mover : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* p = m.get<Point>()) send(from, Point{p->x + 1, p->y + 2});
    co_return;
  }
};

}  // namespace simple_actor_test

THESPIAN_MESSAGE(simple_actor_test::Point);

using namespace simple_actor_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;

BOOST_FIXTURE_TEST_SUITE(simple_actor, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(ask_returns_the_actors_reply) {
  auto hello = sys.create_actor<Hello>();
  auto reply = sys.ask(hello, "hi", patience);
  BOOST_TEST(reply_as<std::string>(reply) == "Hello, World!");
}

BOOST_AUTO_TEST_CASE(ask_returns_nullopt_when_actor_never_replies) {
  auto hello = sys.create_actor<Hello>();
  const auto start = std::chrono::steady_clock::now();
  auto reply = sys.ask(hello, "something it does not answer", brief);
  BOOST_TEST(!reply.has_value());
  BOOST_TEST((std::chrono::steady_clock::now() - start >= brief));
}

BOOST_AUTO_TEST_CASE(tell_then_listen_receives_the_reply) {
  auto hello = sys.create_actor<Hello>();
  sys.tell(hello, "hi");
  BOOST_TEST(reply_as<std::string>(sys.listen(patience)) == "Hello, World!");
}

BOOST_AUTO_TEST_CASE(created_actor_address_is_not_null) {
  auto hello = sys.create_actor<Hello>();
  BOOST_TEST(static_cast<bool>(hello));
}

BOOST_AUTO_TEST_CASE(each_created_actor_has_its_own_address_and_state) {
  auto a = sys.create_actor<Counter>();
  auto b = sys.create_actor<Counter>();
  BOOST_TEST(a != b);
  sys.tell(a, "inc");
  sys.tell(a, "inc");
  sys.tell(b, "inc");
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(a, "get", patience)) == 2);
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(b, "get", patience)) == 1);
}

BOOST_AUTO_TEST_CASE(actor_sees_its_own_address_as_my_address) {
  auto actor = sys.create_actor<Introspective>();
  BOOST_TEST(reply_as<ActorAddress>(sys.ask(actor, "address", patience)) == actor);
}

BOOST_AUTO_TEST_CASE(actor_keeps_its_state_between_messages) {
  auto counter = sys.create_actor<Counter>();
  for (int i = 0; i < 10; ++i) sys.tell(counter, "inc");
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(counter, "get", patience)) == 10);
  sys.tell(counter, "inc");
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(counter, "get", patience)) == 11);
}

BOOST_AUTO_TEST_CASE(unnamed_actor_has_an_empty_global_name) {
  auto actor = sys.create_actor<Introspective>();
  BOOST_TEST(reply_as<std::string>(sys.ask(actor, "name", patience)) == "");
}

BOOST_AUTO_TEST_CASE(sender_seen_by_actor_is_the_private_context_address) {
  auto actor = sys.create_actor<Introspective>();
  auto ctx = sys.private_context();
  BOOST_TEST(static_cast<bool>(ctx.address()));
  BOOST_TEST(reply_as<ActorAddress>(ctx.ask(actor, "sender", patience)) == ctx.address());
}

BOOST_AUTO_TEST_CASE(user_defined_structs_travel_both_ways) {
  auto mover = sys.create_actor<Mover>();
  BOOST_CHECK(reply_as<Point>(sys.ask(mover, Point{1, 1}, patience)) == (Point{2, 3}));
}

BOOST_AUTO_TEST_CASE(echo_returns_an_equal_message) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  const Message sent = std::vector<std::string>{"a", "b", "c"};
  auto reply = sys.ask(echo, sent, patience);
  BOOST_REQUIRE(reply.has_value());
  BOOST_CHECK(*reply == sent);
}

BOOST_AUTO_TEST_SUITE_END()
