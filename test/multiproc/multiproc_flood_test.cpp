// Back-pressure between two actor processes whose one thread runs both the actor and its I/O
// (docs/design.md, "Threads of an actor process"): two actors that each send the other far more
// than the high-water mark (950 messages) from inside one handler. Each send above the mark
// waits by running the process's I/O (reading ACKs and the peer's frames into the mailbox), so
// neither deadlocks; every message arrives, in order, and neither handler is re-entered.
#include <cstdint>
#include <string>

#include <boost/test/unit_test.hpp>

#include "../common/loopback_port.hpp"
#include "multiproc_helpers.hpp"

namespace multiproc_flood_test {

using namespace multiproc_test;

// Far above the high-water mark: the sender's queue fills while its handler loops, since
// nothing else in its process reads the ACKs.
constexpr std::int64_t flood = 5000;

struct Start {
  ActorAddress peer;
  std::int64_t count = 0;
  template <class A> void serialize(A& ar) { ar(peer, count); }
};

struct Seq {
  std::int64_t value = 0;
  template <class A> void serialize(A& ar) { ar(value); }
};

struct Outcome {
  std::int64_t received = 0;
  bool in_order = true;
  bool reentered = false;
  template <class A> void serialize(A& ar) { ar(received, in_order, reentered); }
};

// On Start, sends `count` numbered messages to the peer in one handler; answers whoever sent
// Start (or later asks "result") once it has sent them all and received `count` from the peer.
class Flooder : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (sending_) outcome_.reentered = true;
    if (const auto* start = m.get<Start>()) {
      expected_ = start->count;
      asker_ = from;
      sending_ = true;
      for (std::int64_t i = 0; i < start->count; ++i) send(start->peer, Seq{i});
      sending_ = false;
      sent_all_ = true;
    } else if (const auto* seq = m.get<Seq>()) {
      if (seq->value != outcome_.received) outcome_.in_order = false;
      ++outcome_.received;
    } else if (is_text(m, "result")) {
      asker_ = from;
    }
    if (sent_all_ && asker_ && outcome_.received == expected_) {
      send(asker_, outcome_);
      asker_ = ActorAddress{};
    }
    co_return;
  }

 private:
  bool sending_ = false;
  bool sent_all_ = false;
  std::int64_t expected_ = -1;
  ActorAddress asker_;
  Outcome outcome_;
};

void check(const std::optional<Message>& reply, const char* who) {
  BOOST_REQUIRE_MESSAGE(reply.has_value() && reply->is<Outcome>(),
                        who << " did not finish: a flood in both directions deadlocked");
  const auto& outcome = reply->as<Outcome>();
  BOOST_TEST(outcome.received == flood);
  BOOST_TEST(outcome.in_order);
  BOOST_TEST(!outcome.reentered);
}

// Both flood at once: B is told first, A is asked (and answers once both directions are done).
void flood_both_ways(thespian::ActorSystem& sys) {
  auto a = sys.create_actor<Flooder>();
  auto b = sys.create_actor<Flooder>();
  sys.tell(b, Start{a, flood});
  check(sys.ask(a, Start{b, flood}, 60s), "the first actor");
  check(sys.ask(b, std::string("result"), 60s), "the second actor");
}

}  // namespace multiproc_flood_test

THESPIAN_MESSAGE(multiproc_flood_test::Start);
THESPIAN_MESSAGE(multiproc_flood_test::Seq);
THESPIAN_MESSAGE(multiproc_flood_test::Outcome);
THESPIAN_ACTOR(multiproc_flood_test::Flooder);

using namespace multiproc_flood_test;

BOOST_AUTO_TEST_SUITE(multiproc_flood)

BOOST_AUTO_TEST_CASE(two_queue_base_actors_flooding_each_other_above_the_high_water_mark_both_finish) {
  {
    thespian::ActorSystem sys("multiprocQueueBase");
    flood_both_ways(sys);
    sys.shutdown();
  }
  BOOST_TEST(eventually([] { return descendants().empty(); }));
}

BOOST_AUTO_TEST_CASE(two_tcp_base_actors_flooding_each_other_above_the_high_water_mark_both_finish) {
  {
    thespian::ActorSystem sys(
        "multiprocTCPBase",
        thespian::Capabilities{{"Admin Port", thespian_test_common::free_loopback_port()}});
    flood_both_ways(sys);
    sys.shutdown();
  }
  BOOST_TEST(eventually([] {
    reap_orphans();
    return descendants().empty();
  }));
}

BOOST_AUTO_TEST_SUITE_END()
