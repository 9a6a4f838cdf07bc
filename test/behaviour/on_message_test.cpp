// The synchronous fast path Actor::on_message (our extension): every message is offered to it
// first; what it declines goes to receive(); what it throws on is retried once (offered again)
// and then poisoned, exactly as for receive().
#include <cstdint>
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace on_message_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;
using thespian_test::patience;
using thespian_test::reply_as;

// Handles strings in on_message, counts what it saw there, and leaves integers to receive().
class Split : public thespian::Actor {
 public:
  bool on_message(const Message& m, const ActorAddress& from) override {
    if (is_text(m, "explode")) {
      ++explosions_;
      throw std::runtime_error("on_message exploded");
    }
    if (is_text(m, "fizzle")) {
      if (++fizzles_ == 1) throw std::runtime_error("fizzled once");
      send(from, std::string("fizzled, then handled"));
      return true;
    }
    if (is_text(m, "explosions?")) {
      send(from, explosions_);
      return true;
    }
    if (const auto* text = m.get<std::string>()) {
      send(from, "sync:" + *text);
      return true;
    }
    return false;
  }

  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* n = m.get<std::int64_t>()) send(from, *n + 1);
    co_return;
  }

 private:
  std::int64_t explosions_ = 0, fizzles_ = 0;
};

BOOST_FIXTURE_TEST_SUITE(on_message, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(on_message_handles_what_it_accepts_without_receive) {
  auto a = sys.create_actor<Split>();
  BOOST_TEST(reply_as<std::string>(sys.ask(a, std::string("hi"), patience)) == "sync:hi");
}

BOOST_AUTO_TEST_CASE(messages_on_message_declines_go_to_receive) {
  auto a = sys.create_actor<Split>();
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(a, std::int64_t{41}, patience)) == 42);
}

BOOST_AUTO_TEST_CASE(on_message_that_throws_once_is_retried_and_succeeds) {
  auto a = sys.create_actor<Split>();
  BOOST_TEST(reply_as<std::string>(sys.ask(a, std::string("fizzle"), patience)) ==
             "fizzled, then handled");
}

BOOST_AUTO_TEST_CASE(on_message_that_throws_twice_poisons_the_message_and_lives_on) {
  auto a = sys.create_actor<Split>();
  const auto poison =
      reply_as<thespian::PoisonMessage>(sys.ask(a, std::string("explode"), patience));
  BOOST_TEST(is_text(poison.poison, "explode"));
  BOOST_TEST(poison.details.find("on_message exploded") != std::string::npos);
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(a, std::string("explosions?"), patience)) == 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace on_message_test
