// Actor::ask: `co_await ask(to, message, timeout)` inside receive() gets the correlated reply;
// while the actor awaits, its other messages wait in its mailbox (non-reentrant); nullopt on
// timeout, and when the asked actor exits without answering.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace in_actor_ask_test {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

// outside -> asker: ask `target` `question` within `timeout`, tell me the outcome.
struct AskVia {
  ActorAddress target;
  Message question;
  std::int64_t timeout_ms = 5000;
  template <class A> void serialize(A& ar) { ar(target, question, timeout_ms); }
};
struct Outcome {
  bool answered = false;
  Message answer;
  std::int64_t elapsed_ms = 0;
  template <class A> void serialize(A& ar) { ar(answered, answer, elapsed_ms); }
};

class Asker : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* via = m.get<AskVia>()) {
      events_.push_back("ask started");
      const auto start = std::chrono::steady_clock::now();
      auto reply = co_await ask(via->target, via->question, std::chrono::milliseconds(via->timeout_ms));
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      events_.push_back("ask finished");
      send(from, Outcome{reply.has_value(), reply ? *reply : Message{}, elapsed.count()});
    } else if (is_text(m, "ping")) {
      events_.push_back("ping");
    } else if (is_text(m, "events?")) {
      send(from, events_);
    } else if (is_text(m, "echo?")) {
      send(from, std::string("echo!"));
    } else if (is_text(m, "ask nobody")) {
      try {
        (void)co_await ask(ActorAddress{}, std::string("x"), 1s);
        send(from, std::string("no exception"));
      } catch (const thespian::InvalidActorAddress&) {
        send(from, std::string("InvalidActorAddress"));
      }
    }
  }

 private:
  std::vector<std::string> events_;
};

// Answers after a delay ("slow"), at once (anything else textual), never ("ignore"), exits
// without answering ("vanish"), throws ("throw"), or tells who asked ("who asks?").
class Target : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "slow")) {
      pending_ = from;
      wakeup_after(200ms);
    } else if (m.is<thespian::WakeupMessage>()) {
      send(pending_, std::string("slow answer"));
    } else if (is_text(m, "ignore")) {
      // never answers
    } else if (is_text(m, "vanish")) {
      send(my_address(), thespian::ActorExitRequest{});
    } else if (is_text(m, "throw")) {
      throw std::runtime_error("target failed");
    } else if (is_text(m, "who asks?")) {
      send(from, from);
    } else if (const auto* text = m.get<std::string>()) {
      send(from, "answer to " + *text);
    }
    co_return;
  }

 private:
  ActorAddress pending_;
};

// Relays a question down a chain of askers: each awaits the next one's answer.
struct Relay {
  std::vector<ActorAddress> chain;  // the rest of the chain; the last one is a Target
  std::string question;
  template <class A> void serialize(A& ar) { ar(chain, question); }
};

class Relayer : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* r = m.get<Relay>()) {
      std::vector<ActorAddress> rest(r->chain.begin() + 1, r->chain.end());
      // Built outside the co_await expression: g++ 12 destroys aggregate temporaries inside a
      // co_await full-expression twice.
      Message onward = rest.empty() ? Message(r->question) : Message(Relay{rest, r->question});
      auto answer = co_await ask(r->chain.front(), std::move(onward), 5s);
      send(from, answer ? *answer : Message(std::string("no answer")));
    }
  }
};

}  // namespace in_actor_ask_test

THESPIAN_MESSAGE(in_actor_ask_test::AskVia);
THESPIAN_MESSAGE(in_actor_ask_test::Outcome);
THESPIAN_MESSAGE(in_actor_ask_test::Relay);

using namespace in_actor_ask_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(in_actor_ask, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(ask_inside_receive_gets_the_reply) {
  auto asker = sys.create_actor<Asker>();
  auto target = sys.create_actor<Target>();
  auto outcome = reply_as<Outcome>(sys.ask(asker, AskVia{target, std::string("life")}, patience));
  BOOST_TEST(outcome.answered);
  BOOST_TEST(text_of(outcome.answer) == "answer to life");
}

BOOST_AUTO_TEST_CASE(other_messages_wait_in_the_mailbox_while_the_actor_awaits_an_ask) {
  auto asker = sys.create_actor<Asker>();
  auto target = sys.create_actor<Target>();
  sys.tell(asker, AskVia{target, std::string("slow")});
  sys.tell(asker, "ping");
  sys.tell(asker, "events?");
  auto outcome = reply_as<Outcome>(sys.listen(patience));
  BOOST_TEST(text_of(outcome.answer) == "slow answer");
  auto events = reply_as<std::vector<std::string>>(sys.listen(patience));
  const std::vector<std::string> expected{"ask started", "ask finished", "ping"};
  BOOST_TEST(events == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_actor_asking_itself_times_out_because_it_takes_no_message_meanwhile) {
  auto asker = sys.create_actor<Asker>();
  BOOST_REQUIRE(text_of(sys.ask(asker, "echo?", patience)) == "echo!");
  auto outcome = reply_as<Outcome>(sys.ask(asker, AskVia{asker, std::string("echo?"), 200}, patience));
  BOOST_TEST(!outcome.answered);
  BOOST_TEST(text_of(sys.ask(asker, "echo?", patience)) == "echo!");
}

BOOST_AUTO_TEST_CASE(ask_inside_receive_returns_nullopt_on_timeout) {
  auto asker = sys.create_actor<Asker>();
  auto target = sys.create_actor<Target>();
  auto outcome = reply_as<Outcome>(sys.ask(asker, AskVia{target, std::string("ignore"), 100}, patience));
  BOOST_TEST(!outcome.answered);
  BOOST_TEST(outcome.elapsed_ms >= 100);
}

BOOST_AUTO_TEST_CASE(ask_to_an_actor_that_exits_without_answering_returns_nullopt) {
  auto asker = sys.create_actor<Asker>();
  auto target = sys.create_actor<Target>();
  auto outcome = reply_as<Outcome>(sys.ask(asker, AskVia{target, std::string("vanish"), 1000}, patience));
  BOOST_TEST(!outcome.answered);
}

BOOST_AUTO_TEST_CASE(poison_message_is_the_reply_when_the_asked_actor_fails) {
  auto asker = sys.create_actor<Asker>();
  auto target = sys.create_actor<Target>();
  auto outcome = reply_as<Outcome>(sys.ask(asker, AskVia{target, std::string("throw")}, patience));
  BOOST_REQUIRE(outcome.answered);
  auto poison = reply_as<thespian::PoisonMessage>(outcome.answer);
  BOOST_TEST(text_of(poison.poison) == "throw");
}

BOOST_AUTO_TEST_CASE(asked_actor_sees_a_one_shot_reply_address_not_the_asker) {
  auto asker = sys.create_actor<Asker>();
  auto target = sys.create_actor<Target>();
  auto outcome = reply_as<Outcome>(sys.ask(asker, AskVia{target, std::string("who asks?")}, patience));
  BOOST_REQUIRE(outcome.answered);
  auto reply_address = reply_as<ActorAddress>(outcome.answer);
  BOOST_TEST(static_cast<bool>(reply_address));
  BOOST_TEST(reply_address != asker);
}

BOOST_AUTO_TEST_CASE(asks_nest_along_a_chain_of_awaiting_actors) {
  std::vector<ActorAddress> chain;
  for (int i = 0; i < 4; ++i) chain.push_back(sys.create_actor<Relayer>());
  chain.push_back(sys.create_actor<Target>());
  std::vector<ActorAddress> rest(chain.begin() + 1, chain.end());
  BOOST_TEST(text_of(sys.ask(chain.front(), Relay{rest, "deep"}, patience)) == "answer to deep");
}

BOOST_AUTO_TEST_CASE(ask_inside_receive_to_the_null_address_throws_invalid_actor_address) {
  auto asker = sys.create_actor<Asker>();
  BOOST_TEST(text_of(sys.ask(asker, "ask nobody", patience)) == "InvalidActorAddress");
}

BOOST_AUTO_TEST_CASE(consecutive_asks_inside_receive_each_get_their_own_answer_in_order) {
  auto asker = sys.create_actor<Asker>();
  auto target = sys.create_actor<Target>();
  for (int i = 0; i < 20; ++i) sys.tell(asker, AskVia{target, std::to_string(i)});
  for (int i = 0; i < 20; ++i) {
    auto outcome = reply_as<Outcome>(sys.listen(patience));
    BOOST_TEST(text_of(outcome.answer) == "answer to " + std::to_string(i));
  }
}

BOOST_AUTO_TEST_SUITE_END()
