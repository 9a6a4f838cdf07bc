// Port of Thespian's load tests: many messages through a chain of actors, many senders into one
// actor, many actors at once. Nothing is lost and every sender's order is kept.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace load_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

struct Seq {
  std::int64_t source = 0;
  std::int64_t n = 0;
  template <class A> void serialize(A& ar) { ar(source, n); }
};
// Configures a link: where to pass messages on (null: this is the tail), who hears the tally.
struct Link {
  ActorAddress next;
  ActorAddress reporter;
  std::int64_t expected = 0;  // for the tail: how many Seq make a complete run
  template <class A> void serialize(A& ar) { ar(next, reporter, expected); }
};
struct Tally {
  std::int64_t received = 0;
  std::int64_t out_of_order = 0;
  std::int64_t sources = 0;
  template <class A> void serialize(A& ar) { ar(received, out_of_order, sources); }
};
// source -> sends `count` Seq tagged `source` to `sink`.
struct Emit {
  ActorAddress sink;
  std::int64_t source = 0;
  std::int64_t count = 0;
  template <class A> void serialize(A& ar) { ar(sink, source, count); }
};

// Passes everything on; the tail checks each source's order and reports once complete.
class Link_actor : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* link = m.get<Link>()) {
      link_ = *link;
      send(from, std::string("linked"));
    } else if (const auto* seq = m.get<Seq>()) {
      if (link_.next) {
        send(link_.next, *seq);
      } else {
        auto [it, fresh] = last_.try_emplace(seq->source, -1);
        if (seq->n != it->second + 1) ++tally_.out_of_order;
        it->second = seq->n;
        ++tally_.received;
        tally_.sources = static_cast<std::int64_t>(last_.size());
        if (tally_.received == link_.expected) send(link_.reporter, tally_);
      }
    }
    co_return;
  }

 private:
  Link link_;
  std::map<std::int64_t, std::int64_t> last_;
  Tally tally_;
};

class Source : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* e = m.get<Emit>()) {
      for (std::int64_t i = 0; i < e->count; ++i) send(e->sink, Seq{e->source, i});
    }
    co_return;
  }
};

}  // namespace load_test

THESPIAN_MESSAGE(load_test::Seq);
THESPIAN_MESSAGE(load_test::Link);
THESPIAN_MESSAGE(load_test::Tally);
THESPIAN_MESSAGE(load_test::Emit);

using namespace load_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

namespace {

// A chain of `length` links; returns the head. The tail reports to `reporter`.
std::vector<ActorAddress> make_chain(thespian::ActorSystem& sys, int length, ActorAddress reporter,
                                     std::int64_t expected) {
  std::vector<ActorAddress> links;
  for (int i = 0; i < length; ++i) links.push_back(sys.create_actor<Link_actor>());
  for (int i = 0; i < length; ++i) {
    const ActorAddress next = i + 1 < length ? links[i + 1] : ActorAddress{};
    BOOST_REQUIRE(text_of(sys.ask(links[i], Link{next, reporter, expected}, patience)) == "linked");
  }
  return links;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(load, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(ten_thousand_messages_through_a_chain_all_arrive_in_order) {
  constexpr std::int64_t total = 10'000;
  auto ctx = sys.private_context();
  auto chain = make_chain(sys, 4, ctx.address(), total);
  for (std::int64_t i = 0; i < total; ++i) ctx.tell(chain.front(), Seq{0, i});
  auto tally = reply_as<Tally>(ctx.listen(patience + patience));
  BOOST_TEST(tally.received == total);
  BOOST_TEST(tally.out_of_order == 0);
}

BOOST_AUTO_TEST_CASE(several_senders_into_one_actor_each_keep_their_order) {
  constexpr int sources = 4;
  constexpr std::int64_t each = 900;  // one burst per sender, under the queue block mark
  auto ctx = sys.private_context();
  auto sink = make_chain(sys, 1, ctx.address(), sources * each).front();
  std::vector<ActorAddress> emitters;
  for (int s = 0; s < sources; ++s) emitters.push_back(sys.create_actor<Source>());
  for (int s = 0; s < sources; ++s) sys.tell(emitters[s], Emit{sink, s, each});
  auto tally = reply_as<Tally>(ctx.listen(patience + patience));
  BOOST_TEST(tally.received == sources * each);
  BOOST_TEST(tally.sources == sources);
  BOOST_TEST(tally.out_of_order == 0);
}

BOOST_AUTO_TEST_CASE(several_senders_through_a_shared_chain_each_keep_their_order) {
  constexpr int sources = 3;
  constexpr std::int64_t each = 900;  // one burst per sender, under the queue block mark
  auto ctx = sys.private_context();
  auto chain = make_chain(sys, 3, ctx.address(), sources * each);
  std::vector<ActorAddress> emitters;
  for (int s = 0; s < sources; ++s) emitters.push_back(sys.create_actor<Source>());
  for (int s = 0; s < sources; ++s) sys.tell(emitters[s], Emit{chain.front(), s, each});
  auto tally = reply_as<Tally>(ctx.listen(patience + patience));
  BOOST_TEST(tally.received == sources * each);
  BOOST_TEST(tally.out_of_order == 0);
}

BOOST_AUTO_TEST_CASE(two_hundred_actors_asked_at_once_all_answer) {
  std::vector<ActorAddress> actors;
  for (int i = 0; i < 200; ++i) actors.push_back(sys.create_actor<thespian_test::echo_actor>());
  for (int i = 0; i < 200; ++i) sys.tell(actors[i], std::int64_t{i});
  std::vector<int> seen(200, 0);
  for (int i = 0; i < 200; ++i) {
    auto n = reply_as<std::int64_t>(sys.listen(patience));
    BOOST_REQUIRE(n >= 0);
    BOOST_REQUIRE(n < 200);
    ++seen[static_cast<std::size_t>(n)];
  }
  BOOST_TEST(seen == std::vector<int>(200, 1), boost::test_tools::per_element());
  BOOST_TEST(!sys.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(nine_hundred_replies_from_one_actor_reach_the_outside_in_order) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  for (std::int64_t i = 0; i < 900; ++i) sys.tell(echo, i);
  std::int64_t out_of_order = 0;
  for (std::int64_t i = 0; i < 900; ++i) {
    if (reply_as<std::int64_t>(sys.listen(patience)) != i) ++out_of_order;
  }
  BOOST_TEST(out_of_order == 0);
}

BOOST_AUTO_TEST_SUITE_END()
