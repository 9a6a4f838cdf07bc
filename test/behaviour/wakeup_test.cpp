// Port of Thespian's wakeup tests: wakeup_after(d, payload) delivers WakeupMessage{d, payload} from
// the actor itself no earlier than d later, interleaved with other messages; several may be
// pending; those pending when the actor exits are neither delivered nor dead-lettered.
#include <chrono>
#include <cstdint>
#include <set>
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace wakeup_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

// Arm a wakeup; the alarm acknowledges with "armed" and later reports a Woke to the same sender.
struct Arm {
  std::int64_t millis = 0;
  Message payload;
  template <class A> void serialize(A& ar) { ar(millis, payload); }
};
struct Woke {
  std::int64_t delay_ns = 0;
  Message payload;
  bool from_self = false;
  template <class A> void serialize(A& ar) { ar(delay_ns, payload, from_self); }
};
using thespian_test::DeadLetter;

class Alarm : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* arm = m.get<Arm>()) {
      reporter_ = from;
      if (arm->payload.empty()) {
        wakeup_after(std::chrono::milliseconds(arm->millis));
      } else {
        wakeup_after(std::chrono::milliseconds(arm->millis), arm->payload);
      }
      send(from, std::string("armed"));
    } else if (const auto* w = m.get<thespian::WakeupMessage>()) {
      send(reporter_, Woke{w->delay.count(), w->payload, from == my_address()});
    } else if (is_text(m, "ping")) {
      send(from, std::string("pong"));
    }
    co_return;
  }

 private:
  ActorAddress reporter_;
};

using Undertaker = thespian_test::dead_letter_reporter;

constexpr std::int64_t ns_per_ms = 1'000'000;

}  // namespace wakeup_test

THESPIAN_MESSAGE(wakeup_test::Arm);
THESPIAN_MESSAGE(wakeup_test::Woke);

using namespace wakeup_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(wakeup, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(wakeup_after_delivers_a_wakeup_message_with_its_delay_and_payload) {
  auto alarm = sys.create_actor<Alarm>();
  const auto start = std::chrono::steady_clock::now();
  BOOST_REQUIRE(text_of(sys.ask(alarm, Arm{50, std::string("tea time")}, patience)) == "armed");
  auto woke = reply_as<Woke>(sys.listen(patience));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  BOOST_TEST(woke.delay_ns == 50 * ns_per_ms);
  BOOST_TEST(text_of(woke.payload) == "tea time");
  BOOST_TEST((elapsed >= std::chrono::milliseconds(50)));
}

BOOST_AUTO_TEST_CASE(wakeup_message_comes_from_the_actor_itself) {
  auto alarm = sys.create_actor<Alarm>();
  BOOST_REQUIRE(text_of(sys.ask(alarm, Arm{10, std::string("x")}, patience)) == "armed");
  BOOST_TEST(reply_as<Woke>(sys.listen(patience)).from_self);
}

BOOST_AUTO_TEST_CASE(wakeup_without_payload_carries_an_empty_payload) {
  auto alarm = sys.create_actor<Alarm>();
  BOOST_REQUIRE(text_of(sys.ask(alarm, Arm{10, Message{}}, patience)) == "armed");
  auto woke = reply_as<Woke>(sys.listen(patience));
  BOOST_TEST(woke.payload.empty());
  BOOST_TEST(woke.delay_ns == 10 * ns_per_ms);
}

BOOST_AUTO_TEST_CASE(wakeup_with_zero_delay_fires) {
  auto alarm = sys.create_actor<Alarm>();
  BOOST_REQUIRE(text_of(sys.ask(alarm, Arm{0, std::string("now")}, patience)) == "armed");
  auto woke = reply_as<Woke>(sys.listen(patience));
  BOOST_TEST(woke.delay_ns == 0);
  BOOST_TEST(text_of(woke.payload) == "now");
}

BOOST_AUTO_TEST_CASE(several_pending_wakeups_all_fire_with_their_own_payloads) {
  auto alarm = sys.create_actor<Alarm>();
  sys.tell(alarm, Arm{60, std::string("c")});
  sys.tell(alarm, Arm{20, std::string("a")});
  sys.tell(alarm, Arm{40, std::string("b")});
  int armed = 0;
  std::set<std::string> payloads;
  std::set<std::int64_t> delays;
  for (int i = 0; i < 6; ++i) {
    auto reply = sys.listen(patience);
    BOOST_REQUIRE(reply.has_value());
    if (thespian_test::is_text(reply, "armed")) {
      ++armed;
    } else {
      auto woke = reply_as<Woke>(reply);
      payloads.insert(text_of(woke.payload));
      delays.insert(woke.delay_ns / ns_per_ms);
    }
  }
  BOOST_TEST(armed == 3);
  BOOST_TEST(payloads == (std::set<std::string>{"a", "b", "c"}), boost::test_tools::per_element());
  BOOST_TEST(delays == (std::set<std::int64_t>{20, 40, 60}), boost::test_tools::per_element());
  BOOST_TEST(!sys.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(fifty_wakeups_pending_at_once_are_all_delivered) {
  auto alarm = sys.create_actor<Alarm>();
  for (std::int64_t i = 0; i < 50; ++i) sys.tell(alarm, Arm{10, i});
  int armed = 0;
  std::set<std::int64_t> seen;
  for (int i = 0; i < 100; ++i) {
    auto reply = sys.listen(patience);
    BOOST_REQUIRE(reply.has_value());
    if (thespian_test::is_text(reply, "armed")) {
      ++armed;
    } else {
      auto woke = reply_as<Woke>(reply);
      BOOST_REQUIRE(woke.payload.is<std::int64_t>());
      seen.insert(woke.payload.as<std::int64_t>());
    }
  }
  BOOST_TEST(armed == 50);
  BOOST_TEST(seen.size() == 50u);
}

BOOST_AUTO_TEST_CASE(other_messages_are_handled_while_a_wakeup_is_pending) {
  auto alarm = sys.create_actor<Alarm>();
  auto owner = sys.private_context();
  BOOST_REQUIRE(text_of(owner.ask(alarm, Arm{300, std::string("later")}, patience)) == "armed");
  BOOST_TEST(text_of(sys.ask(alarm, "ping", patience)) == "pong");
  BOOST_TEST(text_of(sys.ask(alarm, "ping", patience)) == "pong");
  auto woke = reply_as<Woke>(owner.listen(patience));
  BOOST_TEST(text_of(woke.payload) == "later");
}

BOOST_AUTO_TEST_CASE(wakeups_pending_at_exit_are_neither_delivered_nor_dead_lettered) {
  auto undertaker = sys.create_actor<Undertaker>();
  auto letters = sys.private_context();
  BOOST_REQUIRE(text_of(letters.ask(undertaker, "register", patience)) == "registered");
  BOOST_REQUIRE(thespian_test::wait_until(
      sys, [&] { return sys.status().dead_letter_handler == undertaker; }));

  auto alarm = sys.create_actor<Alarm>();
  auto owner = sys.private_context();
  BOOST_REQUIRE(text_of(owner.ask(alarm, Arm{100, std::string("ghost")}, patience)) == "armed");
  owner.tell(alarm, thespian::ActorExitRequest{});
  auto letter = letters.listen(std::chrono::milliseconds(400));
  BOOST_TEST(!letter.has_value(), "dead letter: " << (letter ? letter->type_name() : ""));
  BOOST_TEST(!owner.listen(brief).has_value());

  // The handler does work: a message sent after the exit request is dead-lettered.
  owner.tell(alarm, "control");
  auto control = reply_as<DeadLetter>(letters.listen(patience));
  BOOST_TEST(control.dead_address == alarm);
  BOOST_TEST(text_of(control.dead_message) == "control");
}

BOOST_AUTO_TEST_SUITE_END()
