// Port of Thespian's actor adder tests: a value travels along a chain of actors, each adding its
// own increment; chains built from outside and chains the actors build themselves.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace actor_adder_test {

using thespian::ActorAddress;
using thespian::Message;

// outside -> adder: add `increment`, then pass on to `next` (null: the end of the chain).
struct Setup {
  std::int64_t increment = 0;
  ActorAddress next;
  template <class A> void serialize(A& ar) { ar(increment, next); }
};
// A value on its way; the last adder sends it to `reply_to`.
struct Value {
  std::int64_t value = 0;
  ActorAddress reply_to;
  std::int64_t hops = 0;
  template <class A> void serialize(A& ar) { ar(value, reply_to, hops); }
};
// outside -> the head of a self-building chain: grow `length` adders, each adding `increment`.
struct Grow {
  std::int64_t length = 0;
  std::int64_t increment = 0;
  template <class A> void serialize(A& ar) { ar(length, increment); }
};

class Adder : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* s = m.get<Setup>()) {
      setup_ = *s;
      send(from, std::string("ready"));
    } else if (const auto* g = m.get<Grow>()) {
      setup_.increment = g->increment;
      if (g->length > 1) {
        setup_.next = create_actor<Adder>();
        grow_requester_ = from;
        send(setup_.next, Grow{g->length - 1, g->increment});
      } else {
        send(from, std::string("grown"));
      }
    } else if (thespian_test::is_text(m, "grown")) {
      send(grow_requester_, std::string("grown"));
    } else if (const auto* v = m.get<Value>()) {
      const Value added{v->value + setup_.increment, v->reply_to, v->hops + 1};
      send(setup_.next ? setup_.next : v->reply_to, added);
    }
    co_return;
  }

 private:
  Setup setup_;
  ActorAddress grow_requester_;
};

}  // namespace actor_adder_test

THESPIAN_MESSAGE(actor_adder_test::Setup);
THESPIAN_MESSAGE(actor_adder_test::Value);
THESPIAN_MESSAGE(actor_adder_test::Grow);

using namespace actor_adder_test;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

namespace {

// Builds a chain whose i-th adder adds increments[i]; returns its head.
ActorAddress build_chain(thespian::ActorSystem& sys, const std::vector<std::int64_t>& increments) {
  ActorAddress next;
  for (auto it = increments.rbegin(); it != increments.rend(); ++it) {
    auto adder = sys.create_actor<Adder>();
    BOOST_REQUIRE(text_of(sys.ask(adder, Setup{*it, next}, patience)) == "ready");
    next = adder;
  }
  return next;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(actor_adder, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(single_adder_adds_its_increment) {
  auto head = build_chain(sys, {5});
  auto ctx = sys.private_context();
  auto v = reply_as<Value>(ctx.ask(head, Value{10, ctx.address(), 0}, patience));
  BOOST_TEST(v.value == 15);
  BOOST_TEST(v.hops == 1);
}

BOOST_AUTO_TEST_CASE(chain_of_ten_adders_sums_all_increments) {
  std::vector<std::int64_t> increments;
  for (std::int64_t i = 1; i <= 10; ++i) increments.push_back(i);
  auto head = build_chain(sys, increments);
  auto ctx = sys.private_context();
  auto v = reply_as<Value>(ctx.ask(head, Value{0, ctx.address(), 0}, patience));
  BOOST_TEST(v.value == 55);
  BOOST_TEST(v.hops == 10);
}

BOOST_AUTO_TEST_CASE(chain_built_by_the_actors_themselves_sums_all_increments) {
  auto head = sys.create_actor<Adder>();
  BOOST_REQUIRE(text_of(sys.ask(head, Grow{20, 3}, patience)) == "grown");
  auto ctx = sys.private_context();
  auto v = reply_as<Value>(ctx.ask(head, Value{1, ctx.address(), 0}, patience));
  BOOST_TEST(v.value == 61);
  BOOST_TEST(v.hops == 20);
}

BOOST_AUTO_TEST_CASE(many_values_through_one_chain_come_out_in_order) {
  auto head = build_chain(sys, {1, 10, 100});
  auto ctx = sys.private_context();
  for (std::int64_t i = 0; i < 100; ++i) ctx.tell(head, Value{i * 1000, ctx.address(), 0});
  for (std::int64_t i = 0; i < 100; ++i) {
    BOOST_TEST(reply_as<Value>(ctx.listen(patience)).value == i * 1000 + 111);
  }
}

BOOST_AUTO_TEST_CASE(two_chains_sharing_a_tail_each_deliver_their_sums) {
  auto tail = build_chain(sys, {1000});
  auto left = sys.create_actor<Adder>();
  auto right = sys.create_actor<Adder>();
  BOOST_REQUIRE(text_of(sys.ask(left, Setup{1, tail}, patience)) == "ready");
  BOOST_REQUIRE(text_of(sys.ask(right, Setup{2, tail}, patience)) == "ready");
  auto ctx_left = sys.private_context();
  auto ctx_right = sys.private_context();
  ctx_left.tell(left, Value{0, ctx_left.address(), 0});
  ctx_right.tell(right, Value{0, ctx_right.address(), 0});
  BOOST_TEST(reply_as<Value>(ctx_left.listen(patience)).value == 1001);
  BOOST_TEST(reply_as<Value>(ctx_right.listen(patience)).value == 1002);
}

BOOST_AUTO_TEST_SUITE_END()
