// Port of Thespian's dead lettering tests: messages to exited actors (including those still queued
// when they exited) reach the current dead-letter handler as DeadEnvelope{address, message}; one
// handler at a time, the last to register wins, only the current one can deregister, and a
// handler that exits is removed. Each handler reports to a private context of its own.
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace dead_letter_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

using thespian_test::DeadLetter;

using Undertaker = thespian_test::dead_letter_reporter;

class Mortal : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "ping")) {
      send(from, std::string("pong"));
    } else if (is_text(m, "exit leaving mail behind")) {
      send(my_address(), thespian::ActorExitRequest{});
      send(my_address(), std::string("leftover 1"));
      send(my_address(), std::string("leftover 2"));
    } else if (is_text(m, "hold")) {
      held_ = from;
      send(from, std::string("holding"));
    } else if (is_text(m, "release")) {
      send(held_, std::string("late reply"));
    }
    co_return;
  }

 private:
  ActorAddress held_;
};

}  // namespace dead_letter_test

using namespace dead_letter_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

namespace {

ActorAddress current_handler(thespian::ActorSystem& sys) { return sys.status().dead_letter_handler; }

// Registers `undertaker` (reporting to `letters`) and waits until the system shows it as current.
void register_handler(thespian::ActorSystem& sys, const ActorAddress& undertaker,
                      thespian::ExternalContext& letters) {
  BOOST_REQUIRE(text_of(letters.ask(undertaker, "register", patience)) == "registered");
  BOOST_REQUIRE(thespian_test::wait_until(sys, [&] { return current_handler(sys) == undertaker; }));
}

// An actor asked to exit through the system's shared endpoint: whatever that endpoint sends it
// afterwards arrives after the exit request (per-sender order), so it becomes a dead letter.
ActorAddress exited_actor(thespian::ActorSystem& sys) {
  auto mortal = sys.create_actor<Mortal>();
  BOOST_REQUIRE(text_of(sys.ask(mortal, "ping", patience)) == "pong");
  sys.tell(mortal, thespian::ActorExitRequest{});
  return mortal;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(dead_letters, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(registered_handler_is_shown_in_system_status) {
  BOOST_TEST(!static_cast<bool>(current_handler(sys)));
  auto undertaker = sys.create_actor<Undertaker>();
  auto letters = sys.private_context();
  register_handler(sys, undertaker, letters);
  BOOST_TEST(current_handler(sys) == undertaker);
}

BOOST_AUTO_TEST_CASE(message_to_an_exited_actor_reaches_the_handler_as_a_dead_envelope) {
  auto undertaker = sys.create_actor<Undertaker>();
  auto letters = sys.private_context();
  register_handler(sys, undertaker, letters);
  auto mortal = exited_actor(sys);
  sys.tell(mortal, "are you there?");
  auto dead = reply_as<DeadLetter>(letters.listen(patience));
  BOOST_TEST(dead.dead_address == mortal);
  // Says which message came instead (it failed once, on Admin Routing under load).
  BOOST_CHECK_MESSAGE(dead.dead_message == Message(std::string("are you there?")),
                      "the dead letter holds " << thespian_test::text_of(dead.dead_message));
}

BOOST_AUTO_TEST_CASE(messages_queued_when_an_actor_exits_become_dead_letters) {
  auto undertaker = sys.create_actor<Undertaker>();
  auto letters = sys.private_context();
  register_handler(sys, undertaker, letters);
  auto mortal = sys.create_actor<Mortal>();
  sys.tell(mortal, "exit leaving mail behind");
  auto first = reply_as<DeadLetter>(letters.listen(patience));
  auto second = reply_as<DeadLetter>(letters.listen(patience));
  BOOST_TEST(first.dead_address == mortal);
  BOOST_TEST(second.dead_address == mortal);
  BOOST_TEST(thespian_test::text_of(first.dead_message) == "leftover 1");
  BOOST_TEST(thespian_test::text_of(second.dead_message) == "leftover 2");
}

BOOST_AUTO_TEST_CASE(without_a_handler_dead_letters_are_dropped_and_nothing_breaks) {
  auto mortal = exited_actor(sys);
  BOOST_CHECK_NO_THROW(sys.tell(mortal, "anyone?"));
  BOOST_TEST(!sys.listen(brief).has_value());
  auto other = sys.create_actor<Mortal>();
  BOOST_TEST(text_of(sys.ask(other, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_CASE(last_registered_handler_wins) {
  auto first = sys.create_actor<Undertaker>();
  auto second = sys.create_actor<Undertaker>();
  auto first_letters = sys.private_context();
  auto second_letters = sys.private_context();
  register_handler(sys, first, first_letters);
  register_handler(sys, second, second_letters);
  auto mortal = exited_actor(sys);
  sys.tell(mortal, "for the current handler");
  const auto dead = reply_as<DeadLetter>(second_letters.listen(patience));
  BOOST_CHECK_MESSAGE(dead.dead_address == mortal, "a dead letter of " << text_of(dead.dead_message)
                                                       << " to " << dead.dead_address.to_string());
  BOOST_TEST(!first_letters.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(deregistration_from_a_handler_that_is_not_current_is_ignored) {
  auto first = sys.create_actor<Undertaker>();
  auto second = sys.create_actor<Undertaker>();
  auto first_letters = sys.private_context();
  auto second_letters = sys.private_context();
  register_handler(sys, first, first_letters);
  register_handler(sys, second, second_letters);
  BOOST_REQUIRE(text_of(first_letters.ask(first, "deregister", patience)) == "deregistered");
  BOOST_TEST(current_handler(sys) == second);
  auto mortal = exited_actor(sys);
  sys.tell(mortal, "still handled");
  const auto dead = reply_as<DeadLetter>(second_letters.listen(patience));
  BOOST_CHECK_MESSAGE(dead.dead_address == mortal, "a dead letter of " << text_of(dead.dead_message)
                                                       << " to " << dead.dead_address.to_string());
}

BOOST_AUTO_TEST_CASE(deregistration_from_the_current_handler_stops_delivery) {
  auto undertaker = sys.create_actor<Undertaker>();
  auto letters = sys.private_context();
  register_handler(sys, undertaker, letters);
  BOOST_REQUIRE(text_of(letters.ask(undertaker, "deregister", patience)) == "deregistered");
  BOOST_TEST(thespian_test::wait_until(sys, [&] { return !current_handler(sys); }));
  auto mortal = exited_actor(sys);
  sys.tell(mortal, "nobody handles this");
  BOOST_TEST(!letters.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(registering_twice_is_registering_once) {
  auto undertaker = sys.create_actor<Undertaker>();
  auto letters = sys.private_context();
  register_handler(sys, undertaker, letters);
  register_handler(sys, undertaker, letters);
  BOOST_REQUIRE(text_of(letters.ask(undertaker, "deregister", patience)) == "deregistered");
  BOOST_TEST(thespian_test::wait_until(sys, [&] { return !current_handler(sys); }));
}

BOOST_AUTO_TEST_CASE(handler_that_exits_is_removed) {
  auto undertaker = sys.create_actor<Undertaker>();
  auto letters = sys.private_context();
  register_handler(sys, undertaker, letters);
  letters.tell(undertaker, "leave");
  BOOST_TEST(thespian_test::wait_until(sys, [&] { return !current_handler(sys); }));
  auto mortal = exited_actor(sys);
  BOOST_CHECK_NO_THROW(sys.tell(mortal, "to nobody"));
  BOOST_TEST(!letters.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(reply_to_a_closed_private_context_becomes_a_dead_letter) {
  auto undertaker = sys.create_actor<Undertaker>();
  auto letters = sys.private_context();
  register_handler(sys, undertaker, letters);
  auto holder = sys.create_actor<Mortal>();
  ActorAddress closed;
  {
    auto transient = sys.private_context();
    closed = transient.address();
    BOOST_REQUIRE(text_of(transient.ask(holder, "hold", patience)) == "holding");
  }
  sys.tell(holder, "release");
  auto dead = reply_as<DeadLetter>(letters.listen(patience));
  BOOST_TEST(dead.dead_address == closed);
  BOOST_TEST(thespian_test::text_of(dead.dead_message) == "late reply");
}

BOOST_AUTO_TEST_SUITE_END()
