// Port of Thespian's poison message tests: a message whose handling throws twice comes back to its
// sender as PoisonMessage{original, details}; the actor lives on; a PoisonMessage whose own
// handling fails is not poisoned again.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <cereal/types/string.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace poison_message_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

struct Kaboom : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws Kaboom on "explode", an int on an int64, InvalidActorAddress on "send to nobody".
class Fragile : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "explode")) {
      ++attempts_;
      throw Kaboom("kaboom 42");
    } else if (m.is<std::int64_t>()) {
      throw 42;
    } else if (is_text(m, "send to nobody")) {
      send(ActorAddress{}, std::string("into the void"));
    } else if (is_text(m, "attempts?")) {
      send(from, attempts_);
    } else if (is_text(m, "poisons seen?")) {
      send(from, poisons_seen_);
    } else if (is_text(m, "ping")) {
      send(from, std::string("pong"));
    } else if (m.is<thespian::PoisonMessage>()) {
      ++poisons_seen_;
    }
    co_return;
  }

 private:
  std::int64_t attempts_ = 0;
  std::int64_t poisons_seen_ = 0;
};

// outside -> prober: send `message` to `target` yourself, and tell me about the poison.
struct Probe {
  ActorAddress target;
  Message message;
  template <class A> void serialize(A& ar) { ar(target, message); }
};
struct PoisonReport {
  Message poison;
  std::string details;
  template <class A> void serialize(A& ar) { ar(poison, details); }
};

class Prober : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* p = m.get<Probe>()) {
      reporter_ = from;
      send(p->target, p->message);
    } else if (is_text(m, "fail on poison")) {
      fail_on_poison_ = true;
      send(from, std::string("will fail"));
    } else if (const auto* poison = m.get<thespian::PoisonMessage>()) {
      ++poisons_handled_;
      if (fail_on_poison_) throw std::runtime_error("cannot stomach poison");
      send(reporter_, PoisonReport{poison->poison, poison->details});
    } else if (is_text(m, "poisons handled?")) {
      send(from, poisons_handled_);
    } else if (is_text(m, "ping")) {
      send(from, std::string("pong"));
    }
    co_return;
  }

 private:
  ActorAddress reporter_;
  bool fail_on_poison_ = false;
  std::int64_t poisons_handled_ = 0;
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace poison_message_test

THESPIAN_MESSAGE(poison_message_test::Probe);
THESPIAN_MESSAGE(poison_message_test::PoisonReport);

using namespace poison_message_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(poison_message, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(message_that_throws_twice_comes_back_as_poison_message_holding_the_original) {
  auto fragile = sys.create_actor<Fragile>();
  auto poison = reply_as<thespian::PoisonMessage>(sys.ask(fragile, "explode", patience));
  BOOST_CHECK(poison.poison == Message(std::string("explode")));
}

BOOST_AUTO_TEST_CASE(poison_details_name_the_exception_type_and_its_what) {
  auto fragile = sys.create_actor<Fragile>();
  auto poison = reply_as<thespian::PoisonMessage>(sys.ask(fragile, "explode", patience));
  BOOST_TEST(contains(poison.details, "Kaboom"), poison.details);
  BOOST_TEST(contains(poison.details, "kaboom 42"), poison.details);
}

BOOST_AUTO_TEST_CASE(failing_message_is_delivered_exactly_twice) {
  auto fragile = sys.create_actor<Fragile>();
  (void)reply_as<thespian::PoisonMessage>(sys.ask(fragile, "explode", patience));
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(fragile, "attempts?", patience)) == 2);
}

BOOST_AUTO_TEST_CASE(actor_keeps_handling_later_messages_in_order_after_a_poison) {
  auto fragile = sys.create_actor<Fragile>();
  sys.tell(fragile, "explode");
  sys.tell(fragile, "ping");
  sys.tell(fragile, "ping");
  (void)reply_as<thespian::PoisonMessage>(sys.listen(patience));
  BOOST_TEST(text_of(sys.listen(patience)) == "pong");
  BOOST_TEST(text_of(sys.listen(patience)) == "pong");
}

BOOST_AUTO_TEST_CASE(exception_not_derived_from_std_exception_also_poisons) {
  auto fragile = sys.create_actor<Fragile>();
  auto poison = reply_as<thespian::PoisonMessage>(sys.ask(fragile, std::int64_t{5}, patience));
  BOOST_CHECK(poison.poison == Message(std::int64_t{5}));
  BOOST_TEST(!poison.details.empty());
  BOOST_TEST(text_of(sys.ask(fragile, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_CASE(poison_message_goes_to_the_actor_that_sent_the_message) {
  auto fragile = sys.create_actor<Fragile>();
  auto prober = sys.create_actor<Prober>();
  sys.tell(prober, Probe{fragile, std::string("explode")});
  auto report = reply_as<PoisonReport>(sys.listen(patience));
  BOOST_CHECK(report.poison == Message(std::string("explode")));
  BOOST_TEST(contains(report.details, "kaboom 42"), report.details);
}

BOOST_AUTO_TEST_CASE(poison_message_whose_handling_throws_is_not_poisoned_again) {
  auto fragile = sys.create_actor<Fragile>();
  auto prober = sys.create_actor<Prober>();
  auto ctx = sys.private_context();
  BOOST_REQUIRE(text_of(sys.ask(prober, "fail on poison", patience)) == "will fail");
  sys.tell(prober, Probe{fragile, std::string("explode")});
  BOOST_REQUIRE(thespian_test::wait_until(sys, [&] {
    return reply_as<std::int64_t>(ctx.ask(prober, "poisons handled?", patience)) >= 1;
  }));
  // Whatever the retry policy for a failing PoisonMessage, nothing is poisoned back to the
  // actor that caused it, nor to the outside, and both actors go on working.
  BOOST_TEST(!sys.listen(brief).has_value());
  BOOST_TEST(reply_as<std::int64_t>(ctx.ask(fragile, "poisons seen?", patience)) == 0);
  BOOST_TEST(reply_as<std::int64_t>(ctx.ask(prober, "poisons handled?", patience)) <= 2);
  BOOST_TEST(text_of(ctx.ask(prober, "ping", patience)) == "pong");
  BOOST_TEST(text_of(ctx.ask(fragile, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_CASE(send_to_the_null_address_inside_receive_poisons_the_message) {
  auto fragile = sys.create_actor<Fragile>();
  auto poison = reply_as<thespian::PoisonMessage>(sys.ask(fragile, "send to nobody", patience));
  BOOST_CHECK(poison.poison == Message(std::string("send to nobody")));
  BOOST_TEST(contains(poison.details, "InvalidActorAddress"), poison.details);
  BOOST_TEST(text_of(sys.ask(fragile, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_SUITE_END()
