// Port of Thespian's address passing tests: addresses travel inside messages and stay usable,
// a sender can be handed on to a third actor, and ActorAddress is a proper value type (equality,
// hashing, ordering, a stable printable form).
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace address_passing_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

// outside -> introducer: greet `friend_` and have the answer sent to `reply_to`.
struct Introduce {
  ActorAddress friend_;
  ActorAddress reply_to;
  template <class A> void serialize(A& ar) { ar(friend_, reply_to); }
};
struct Greeting {
  std::string from_name;
  ActorAddress reply_to;
  template <class A> void serialize(A& ar) { ar(from_name, reply_to); }
};
// forwarder -> replier: answer `question` to `asker`.
struct Forwarded {
  ActorAddress asker;
  Message question;
  template <class A> void serialize(A& ar) { ar(asker, question); }
};
struct Broadcast {
  std::vector<ActorAddress> targets;
  std::string text;
  template <class A> void serialize(A& ar) { ar(targets, text); }
};

class Introducer : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* intro = m.get<Introduce>()) send(intro->friend_, Greeting{"introducer", intro->reply_to});
    co_return;
  }
};

class Friend : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* g = m.get<Greeting>()) send(g->reply_to, "hello, " + g->from_name);
    if (is_text(m, "address")) send(from, my_address());
    if (const auto* text = m.get<std::string>(); text && text->rfind("to all:", 0) == 0) {
      send(reporter_, "got " + *text);
    }
    if (is_text(m, "report to me")) {
      reporter_ = from;
      send(from, std::string("ok"));
    }
    co_return;
  }

 private:
  ActorAddress reporter_;
};

class Forwarder : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* target = m.get<ActorAddress>()) {
      replier_ = *target;
    } else if (!thespian_test::is_system_message(m)) {
      send(replier_, Forwarded{from, m});
    }
    co_return;
  }

 private:
  ActorAddress replier_;
};

class Replier : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* f = m.get<Forwarded>()) {
      send(f->asker, "answered by replier: " + f->question.as<std::string>());
    }
    co_return;
  }
};

class Broadcaster : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* b = m.get<Broadcast>()) {
      for (const auto& target : b->targets) send(target, "to all: " + b->text);
    }
    co_return;
  }
};

bool printable(const std::string& s) {
  for (unsigned char c : s) {
    if (!std::isprint(c)) return false;
  }
  return true;
}

}  // namespace address_passing_test

THESPIAN_MESSAGE(address_passing_test::Introduce);
THESPIAN_MESSAGE(address_passing_test::Greeting);
THESPIAN_MESSAGE(address_passing_test::Forwarded);
THESPIAN_MESSAGE(address_passing_test::Broadcast);

using namespace address_passing_test;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(address_passing, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(address_inside_a_message_can_be_sent_to) {
  auto introducer = sys.create_actor<Introducer>();
  auto pal = sys.create_actor<Friend>();
  auto ctx = sys.private_context();
  ctx.tell(introducer, Introduce{pal, ctx.address()});
  BOOST_TEST(text_of(ctx.listen(patience)) == "hello, introducer");
}

BOOST_AUTO_TEST_CASE(sender_handed_to_a_third_actor_gets_that_actors_reply) {
  auto forwarder = sys.create_actor<Forwarder>();
  auto replier = sys.create_actor<Replier>();
  sys.tell(forwarder, replier);
  BOOST_TEST(text_of(sys.ask(forwarder, "why?", patience)) == "answered by replier: why?");
}

BOOST_AUTO_TEST_CASE(vector_of_addresses_travels_and_every_address_works) {
  auto broadcaster = sys.create_actor<Broadcaster>();
  std::vector<ActorAddress> friends;
  for (int i = 0; i < 5; ++i) {
    friends.push_back(sys.create_actor<Friend>());
    BOOST_REQUIRE(text_of(sys.ask(friends.back(), "report to me", patience)) == "ok");
  }
  sys.tell(broadcaster, Broadcast{friends, "news"});
  for (int i = 0; i < 5; ++i) BOOST_TEST(text_of(sys.listen(patience)) == "got to all: news");
}

BOOST_AUTO_TEST_CASE(address_returned_by_the_actor_equals_the_created_address) {
  auto pal = sys.create_actor<Friend>();
  auto returned = reply_as<ActorAddress>(sys.ask(pal, "address", patience));
  BOOST_TEST(returned == pal);
  BOOST_TEST(!(returned != pal));
  BOOST_TEST(std::hash<ActorAddress>{}(returned) == std::hash<ActorAddress>{}(pal));
  BOOST_TEST(returned.to_string() == pal.to_string());
}

BOOST_AUTO_TEST_CASE(null_address_is_false_and_equal_to_every_other_null_address) {
  ActorAddress a, b;
  BOOST_TEST(!static_cast<bool>(a));
  BOOST_TEST(a == b);
  BOOST_TEST(!(a < b));
  BOOST_TEST(!(b < a));
  auto pal = sys.create_actor<Friend>();
  BOOST_TEST(a != pal);
}

BOOST_AUTO_TEST_CASE(copies_of_an_address_are_equal_and_hash_equal) {
  auto pal = sys.create_actor<Friend>();
  ActorAddress copy = pal;
  ActorAddress assigned;
  assigned = copy;
  BOOST_TEST(copy == pal);
  BOOST_TEST(assigned == pal);
  BOOST_TEST(std::hash<ActorAddress>{}(copy) == std::hash<ActorAddress>{}(pal));
}

BOOST_AUTO_TEST_CASE(distinct_actors_are_unequal_and_strictly_ordered) {
  auto a = sys.create_actor<Friend>();
  auto b = sys.create_actor<Friend>();
  BOOST_TEST(a != b);
  BOOST_TEST(((a < b) != (b < a)));
  BOOST_TEST(!(a < a));
}

BOOST_AUTO_TEST_CASE(addresses_serve_as_keys_in_ordered_and_unordered_containers) {
  std::vector<ActorAddress> actors;
  for (int i = 0; i < 20; ++i) actors.push_back(sys.create_actor<Friend>());
  std::set<ActorAddress> ordered(actors.begin(), actors.end());
  std::unordered_set<ActorAddress> hashed(actors.begin(), actors.end());
  std::map<ActorAddress, int> indexed;
  for (int i = 0; i < 20; ++i) indexed[actors[i]] = i;
  BOOST_TEST(ordered.size() == 20u);
  BOOST_TEST(hashed.size() == 20u);
  for (int i = 0; i < 20; ++i) {
    BOOST_TEST(indexed.at(actors[i]) == i);
    BOOST_TEST(hashed.count(ActorAddress(actors[i])) == 1u);
  }
}

BOOST_AUTO_TEST_CASE(to_string_is_printable_non_empty_and_stable) {
  auto pal = sys.create_actor<Friend>();
  const std::string first = pal.to_string();
  BOOST_TEST(!first.empty());
  BOOST_TEST(printable(first), "not printable: " << first);
  BOOST_REQUIRE(text_of(sys.ask(pal, "report to me", patience)) == "ok");
  BOOST_TEST(pal.to_string() == first);
  BOOST_TEST(ActorAddress(pal).to_string() == first);
}

BOOST_AUTO_TEST_CASE(to_string_differs_between_actors) {
  auto a = sys.create_actor<Friend>();
  auto b = sys.create_actor<Friend>();
  BOOST_TEST(a.to_string() != b.to_string());
}

BOOST_AUTO_TEST_CASE(stream_output_of_an_address_is_non_empty_and_printable) {
  auto pal = sys.create_actor<Friend>();
  std::ostringstream out;
  out << pal;
  BOOST_TEST(!out.str().empty());
  BOOST_TEST(printable(out.str()), "not printable: " << out.str());
  std::ostringstream null_out;
  null_out << ActorAddress{};
  BOOST_TEST(printable(null_out.str()));
}

BOOST_AUTO_TEST_SUITE_END()
