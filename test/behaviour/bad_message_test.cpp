// Port of Thespian's bad message tests: messages an actor does not understand are ignored without
// harm, and an actor that mistakes a message's type (Message::as) poisons only that message.
#include <cstdint>
#include <string>

#include <cereal/types/string.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace bad_message_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

struct Order {
  std::string item;
  std::int64_t quantity = 0;
  template <class A> void serialize(A& ar) { ar(item, quantity); }
};
struct Junk {
  double noise = 0;
  template <class A> void serialize(A& ar) { ar(noise); }
};

// Understands Orders only; counts what it ignored.
class Shop : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* o = m.get<Order>()) {
      send(from, std::to_string(o->quantity) + " " + o->item);
    } else if (is_text(m, "ignored?")) {
      send(from, ignored_);
    } else if (!thespian_test::is_system_message(m)) {
      ++ignored_;
    }
    co_return;
  }

 private:
  std::int64_t ignored_ = 0;
};

// Assumes every message is an Order.
class Careless : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (thespian_test::is_system_message(m)) co_return;
    const Order& o = m.as<Order>();
    send(from, "ordered " + o.item);
  }
};

}  // namespace bad_message_test

THESPIAN_MESSAGE(bad_message_test::Order);
THESPIAN_MESSAGE(bad_message_test::Junk);

using namespace bad_message_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(bad_message, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(message_the_actor_does_not_understand_is_ignored_and_the_actor_keeps_working) {
  auto shop = sys.create_actor<Shop>();
  BOOST_TEST(!sys.ask(shop, Junk{3.5}, brief).has_value());
  BOOST_TEST(text_of(sys.ask(shop, Order{"apples", 3}, patience)) == "3 apples");
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(shop, "ignored?", patience)) == 1);
}

BOOST_AUTO_TEST_CASE(many_kinds_of_unexpected_messages_leave_the_actor_unharmed) {
  auto shop = sys.create_actor<Shop>();
  sys.tell(shop, Junk{1});
  sys.tell(shop, std::int64_t{7});
  sys.tell(shop, true);
  sys.tell(shop, 2.5);
  sys.tell(shop, std::vector<std::string>{"a"});
  BOOST_TEST(text_of(sys.ask(shop, Order{"pears", 2}, patience)) == "2 pears");
  BOOST_TEST(reply_as<std::int64_t>(sys.ask(shop, "ignored?", patience)) == 5);
}

BOOST_AUTO_TEST_CASE(message_as_the_wrong_type_throws_bad_message_cast) {
  const Message m = std::string("text");
  BOOST_CHECK_THROW((void)m.as<std::int64_t>(), thespian::BadMessageCast);
  BOOST_CHECK_THROW((void)Message{}.as<std::string>(), thespian::BadMessageCast);
  BOOST_TEST(m.get<std::int64_t>() == nullptr);
  BOOST_TEST(!m.is<std::int64_t>());
  BOOST_TEST(m.as<std::string>() == "text");
}

BOOST_AUTO_TEST_CASE(bad_message_cast_names_the_type_that_was_held) {
  const Message m = Junk{1};
  try {
    (void)m.as<Order>();
    BOOST_ERROR("as<Order>() on a Junk did not throw");
  } catch (const thespian::BadMessageCast& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("Junk") != std::string::npos, what);
    BOOST_TEST(what.find("Order") != std::string::npos, what);
  }
}

BOOST_AUTO_TEST_CASE(actor_that_mistakes_the_type_poisons_only_that_message) {
  auto careless = sys.create_actor<Careless>();
  auto poison = reply_as<thespian::PoisonMessage>(sys.ask(careless, Junk{2}, patience));
  BOOST_REQUIRE(poison.poison.is<Junk>());
  BOOST_TEST(poison.poison.as<Junk>().noise == 2.0);
  BOOST_TEST(poison.details.find("BadMessageCast") != std::string::npos, poison.details);
  BOOST_TEST(text_of(sys.ask(careless, Order{"plums", 1}, patience)) == "ordered plums");
}

BOOST_AUTO_TEST_SUITE_END()
