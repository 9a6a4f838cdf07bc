// Per-sender FIFO: messages from one sender to one target arrive in the order sent, whether the
// sender is the system's endpoint, a private context or an actor. Nothing is promised across
// senders, and these tests assume nothing of the kind.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace ordering_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

struct Seq {
  std::int64_t stream = 0;
  std::int64_t n = 0;
  template <class A> void serialize(A& ar) { ar(stream, n); }
};
struct Report {
  std::int64_t received = 0;
  std::int64_t out_of_order = 0;
  template <class A> void serialize(A& ar) { ar(received, out_of_order); }
};
// Send `count` Seq{stream, i} to `target`.
struct Burst {
  ActorAddress target;
  std::int64_t stream = 0;
  std::int64_t count = 0;
  template <class A> void serialize(A& ar) { ar(target, stream, count); }
};

// Checks each stream's order; "report?" answers with the tally.
class Checker : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* seq = m.get<Seq>()) {
      auto [it, fresh] = next_.try_emplace(seq->stream, 0);
      if (seq->n != it->second) ++report_.out_of_order;
      it->second = seq->n + 1;
      ++report_.received;
    } else if (is_text(m, "report?")) {
      send(from, report_);
    } else if (const auto* burst = m.get<Burst>()) {
      for (std::int64_t i = 0; i < burst->count; ++i) send(burst->target, Seq{burst->stream, i});
      send(burst->target, std::string("report?"));
    }
    co_return;
  }

 private:
  std::map<std::int64_t, std::int64_t> next_;
  Report report_;
};

}  // namespace ordering_test

THESPIAN_MESSAGE(ordering_test::Seq);
THESPIAN_MESSAGE(ordering_test::Report);
THESPIAN_MESSAGE(ordering_test::Burst);

using namespace ordering_test;
using thespian_test::patience;
using thespian_test::reply_as;

BOOST_FIXTURE_TEST_SUITE(ordering, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(messages_from_the_system_endpoint_arrive_in_the_order_sent) {
  auto checker = sys.create_actor<Checker>();
  for (std::int64_t i = 0; i < 800; ++i) sys.tell(checker, Seq{0, i});
  auto report = reply_as<Report>(sys.ask(checker, "report?", patience));
  BOOST_TEST(report.received == 800);
  BOOST_TEST(report.out_of_order == 0);
}

BOOST_AUTO_TEST_CASE(messages_from_each_private_context_arrive_in_the_order_sent) {
  auto checker = sys.create_actor<Checker>();
  auto one = sys.private_context();
  auto two = sys.private_context();
  for (std::int64_t i = 0; i < 400; ++i) {
    one.tell(checker, Seq{1, i});
    two.tell(checker, Seq{2, i});
  }
  // Each context's "report?" follows its own messages; the second report covers both streams.
  auto first = reply_as<Report>(one.ask(checker, "report?", patience));
  auto second = reply_as<Report>(two.ask(checker, "report?", patience));
  BOOST_TEST(first.out_of_order == 0);
  BOOST_TEST(first.received >= 400);
  BOOST_TEST(second.out_of_order == 0);
  BOOST_TEST(second.received == 800);
}

BOOST_AUTO_TEST_CASE(messages_from_one_actor_to_another_arrive_in_the_order_sent) {
  auto sender = sys.create_actor<Checker>();
  auto receiver = sys.create_actor<Checker>();
  auto ctx = sys.private_context();
  // The receiver's report goes to the sender, which is not the outside: ask the receiver after.
  sys.tell(sender, Burst{receiver, 5, 800});
  BOOST_TEST(thespian_test::wait_until(sys, [&] {
    return reply_as<Report>(ctx.ask(receiver, "report?", patience)).received == 800;
  }));
  BOOST_TEST(reply_as<Report>(ctx.ask(receiver, "report?", patience)).out_of_order == 0);
}

BOOST_AUTO_TEST_CASE(replies_from_one_actor_reach_the_outside_in_the_order_sent) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  auto ctx = sys.private_context();
  for (std::int64_t i = 0; i < 500; ++i) ctx.tell(echo, Seq{0, i});
  std::int64_t out_of_order = 0;
  for (std::int64_t i = 0; i < 500; ++i) {
    if (reply_as<Seq>(ctx.listen(patience)).n != i) ++out_of_order;
  }
  BOOST_TEST(out_of_order == 0);
}

BOOST_AUTO_TEST_SUITE_END()
