// Port of Thespian's bad startup tests: actors that fail while starting (a throwing constructor, or
// a bad first "initialise" message) must not leave the system in a broken state, and whatever is
// sent to an actor that never started becomes a dead letter.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace bad_startup_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

class Unborn : public thespian::Actor {
 public:
  Unborn() { throw std::logic_error("cannot start: no config"); }
  asio::awaitable<void> receive(Message, ActorAddress) override { co_return; }
};

struct Init {
  std::int64_t workers = 0;
  template <class A> void serialize(A& ar) { ar(workers); }
};

// Must be initialised before use; a bad Init throws (and is poisoned), a good one succeeds.
class Configured : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* init = m.get<Init>()) {
      if (init->workers <= 0) throw std::invalid_argument("workers must be positive");
      workers_ = init->workers;
      send(from, std::string("initialized"));
    } else if (is_text(m, "workers?")) {
      send(from, workers_);
    }
    co_return;
  }

 private:
  std::int64_t workers_ = 0;
};

using thespian_test::DeadLetter;

using Undertaker = thespian_test::dead_letter_reporter;

class Parent : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "spawn unborn and greet it")) {
      auto child = create_actor<Unborn>();
      send(child, std::string("hello, little one"));
      send(from, child);
    }
    co_return;
  }
};

}  // namespace bad_startup_test

THESPIAN_MESSAGE(bad_startup_test::Init);

using namespace bad_startup_test;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(bad_startup, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(failed_startup_throws_an_actor_system_exception_and_the_system_stays_usable) {
  BOOST_CHECK_THROW(sys.create_actor<Unborn>(), thespian::InvalidActorSpecification);
  BOOST_CHECK_THROW(sys.create_actor<Unborn>(), thespian::ActorSystemException);
  BOOST_CHECK_THROW(sys.create_actor<Unborn>(), std::runtime_error);
  auto fine = sys.create_actor<Configured>();
  BOOST_TEST(text_of(sys.ask(fine, Init{2}, patience)) == "initialized");
}

BOOST_AUTO_TEST_CASE(failed_startups_leave_no_actor_behind) {
  const auto before = sys.status().actor_count;
  for (int i = 0; i < 5; ++i) BOOST_CHECK_THROW(sys.create_actor<Unborn>(), thespian::InvalidActorSpecification);
  BOOST_TEST(sys.status().actor_count == before);
}

BOOST_AUTO_TEST_CASE(bad_startup_message_is_poisoned_and_a_good_one_then_succeeds) {
  auto actor = sys.create_actor<Configured>();
  auto poison = reply_as<thespian::PoisonMessage>(sys.ask(actor, Init{0}, patience));
  BOOST_TEST(poison.details.find("workers must be positive") != std::string::npos, poison.details);
  BOOST_TEST(text_of(sys.ask(actor, Init{4}, patience)) == "initialized");
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(actor, "workers?", patience)) == 4);
}

BOOST_AUTO_TEST_CASE(messages_to_a_child_that_never_started_become_dead_letters) {
  auto undertaker = sys.create_actor<Undertaker>();
  auto letters = sys.private_context();  // where the undertaker reports
  BOOST_REQUIRE(text_of(letters.ask(undertaker, "register", patience)) == "registered");
  BOOST_REQUIRE(thespian_test::wait_until(sys, [&] { return sys.status().dead_letter_handler == undertaker; }));
  auto parent = sys.create_actor<Parent>();
  auto child = reply_as<ActorAddress>(sys.ask(parent, "spawn unborn and greet it", patience));
  auto dead = reply_as<DeadLetter>(letters.listen(patience));
  BOOST_TEST(dead.dead_address == child);
  BOOST_CHECK(dead.dead_message == Message(std::string("hello, little one")));
}

BOOST_AUTO_TEST_SUITE_END()
