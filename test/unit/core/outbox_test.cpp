// Unit tests of gathered sends (src/core/outbox.hpp, actor_cell::send): what an actor sends
// during one on_message() call is delivered in batches, and that must stay invisible — every
// message arrives exactly once, in per-sender order, even with eight senders bursting into one
// actor on two threads; a send to another target waits for what was gathered before it; a
// send from another thread of the actor, made after a gathered one, arrives after it; and the
// sender a gathered message names (borrowed in flight) stays valid in the receiver's copies.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <asio/awaitable.hpp>

#include "thespian/actor_system.hpp"

namespace outbox_test {

struct numbered {
  std::int64_t sender;
  std::int64_t seq;
};
struct burst {
  thespian::ActorAddress target;
  std::int64_t sender;
  std::int64_t count;
};
struct report {};
struct tally {
  std::int64_t received = 0;
  std::int64_t out_of_order = 0;  // duplicates and gaps included
  std::vector<std::string> trace;
};

class base : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }
};

// Counts numbered messages and checks that each sender's arrive as 0, 1, 2, ...; records
// strings in arrival order.
class sink : public base {
 public:
  bool on_message(const thespian::Message& m, const thespian::ActorAddress& from) override {
    if (const auto* n = m.get<numbered>()) {
      auto& next = next_[static_cast<std::size_t>(n->sender)];
      if (n->seq != next) ++tally_.out_of_order;
      next = n->seq + 1;
      ++tally_.received;
    } else if (const auto* s = m.get<std::string>()) {
      tally_.trace.push_back(*s);
    } else if (m.is<report>()) {
      send(from, tally_);
    }
    return true;
  }

 private:
  std::vector<std::int64_t> next_ = std::vector<std::int64_t>(64, 0);
  tally tally_;
};

// Sends `count` numbered messages to the target in one on_message() call.
class burster : public base {
 public:
  bool on_message(const thespian::Message& m, const thespian::ActorAddress&) override {
    if (const auto* b = m.get<burst>()) {
      for (std::int64_t i = 0; i < b->count; ++i) send(b->target, numbered{b->sender, i});
    }
    return true;
  }
};

struct relay_through {
  thespian::ActorAddress first;   // gets a1..a3
  thespian::ActorAddress second;  // gets "go" and answers by sending "z" to `first`
};

// On "go", sends "z" to the address it was given.
class forwarder : public base {
 public:
  bool on_message(const thespian::Message& m, const thespian::ActorAddress&) override {
    if (const auto* to = m.get<thespian::ActorAddress>()) target_ = *to;
    if (const auto* s = m.get<std::string>(); s && *s == "go") send(target_, std::string("z"));
    return true;
  }

 private:
  thespian::ActorAddress target_;
};

class chained_sender : public base {
 public:
  bool on_message(const thespian::Message& m, const thespian::ActorAddress&) override {
    if (const auto* r = m.get<relay_through>()) {
      send(r->first, std::string("a1"));
      send(r->first, std::string("a2"));  // gathered from here on
      send(r->first, std::string("a3"));
      send(r->second, std::string("go"));  // must not overtake a2, a3
    }
    return true;
  }
};

// Sends three messages, then has a helper thread send a fourth and waits for it.
class helper_thread_sender : public base {
 public:
  bool on_message(const thespian::Message& m, const thespian::ActorAddress&) override {
    if (const auto* to = m.get<thespian::ActorAddress>()) {
      send(*to, std::string("1"));
      send(*to, std::string("2"));
      send(*to, std::string("3"));
      std::thread helper([this, target = *to] { send(target, std::string("from helper")); });
      helper.join();
      send(*to, std::string("5"));
    }
    return true;
  }
};

// Keeps a copy of the sender of every numbered message (gathered ones borrow it in flight).
struct kept_senders {
  std::vector<thespian::ActorAddress> senders;
};
class keeper : public base {
 public:
  bool on_message(const thespian::Message& m, const thespian::ActorAddress& from) override {
    if (m.is<numbered>()) {
      kept_.senders.push_back(from);
    } else if (m.is<report>()) {
      send(from, kept_);
    }
    return true;
  }

 private:
  kept_senders kept_;
};

}  // namespace outbox_test

THESPIAN_ACTOR(outbox_test::keeper);
THESPIAN_ACTOR(outbox_test::sink);
THESPIAN_ACTOR(outbox_test::burster);
THESPIAN_ACTOR(outbox_test::forwarder);
THESPIAN_ACTOR(outbox_test::chained_sender);
THESPIAN_ACTOR(outbox_test::helper_thread_sender);

namespace {

using namespace std::chrono_literals;
using outbox_test::tally;

const char* const kBases[] = {"simpleSystemBase", "multithreadBase"};

thespian::ActorSystem make_system(const char* base) {
  return thespian::ActorSystem(base, {{"Thread Count", std::int64_t{2}}});
}

// Asks the sink for its tally until `done` holds or 20 s pass.
template <class Done>
tally wait_for(thespian::ActorSystem& sys, const thespian::ActorAddress& sink, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  tally last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto reply = sys.ask(sink, outbox_test::report{}, 5s);
    if (reply) {
      last = reply->as<tally>();
      if (done(last)) break;
    }
  }
  return last;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_outbox)

BOOST_AUTO_TEST_CASE(eight_senders_bursting_into_one_actor_deliver_every_message_once_in_order) {
  constexpr std::int64_t kSenders = 8;
  constexpr std::int64_t kEach = 5000;  // many outbox flushes per burst
  for (const char* base : kBases) {
    BOOST_TEST_CONTEXT(base) {
      auto sys = make_system(base);
      const auto sink = sys.create_actor<outbox_test::sink>();
      std::vector<thespian::ActorAddress> senders;
      for (std::int64_t i = 0; i < kSenders; ++i) {
        senders.push_back(sys.create_actor<outbox_test::burster>());
      }
      for (std::int64_t i = 0; i < kSenders; ++i) {
        sys.tell(senders[static_cast<std::size_t>(i)], outbox_test::burst{sink, i, kEach});
      }
      const tally t = wait_for(sys, sink, [](const tally& t) { return t.received >= kSenders * kEach; });
      BOOST_TEST(t.received == kSenders * kEach);
      BOOST_TEST(t.out_of_order == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_send_to_another_target_waits_for_what_was_gathered_before_it) {
  for (const char* base : kBases) {
    BOOST_TEST_CONTEXT(base) {
      auto sys = make_system(base);
      const auto sink = sys.create_actor<outbox_test::sink>();
      const auto fwd = sys.create_actor<outbox_test::forwarder>();
      sys.tell(fwd, sink);
      const auto sender = sys.create_actor<outbox_test::chained_sender>();
      sys.tell(sender, outbox_test::relay_through{sink, fwd});
      const tally t = wait_for(sys, sink, [](const tally& t) { return t.trace.size() >= 4; });
      BOOST_TEST(t.trace == (std::vector<std::string>{"a1", "a2", "a3", "z"}),
                 boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_send_from_another_thread_of_the_actor_arrives_after_what_it_sent_before) {
  for (const char* base : kBases) {
    BOOST_TEST_CONTEXT(base) {
      auto sys = make_system(base);
      const auto sink = sys.create_actor<outbox_test::sink>();
      const auto sender = sys.create_actor<outbox_test::helper_thread_sender>();
      sys.tell(sender, sink);
      const tally t = wait_for(sys, sink, [](const tally& t) { return t.trace.size() >= 5; });
      BOOST_TEST(t.trace == (std::vector<std::string>{"1", "2", "3", "from helper", "5"}),
                 boost::test_tools::per_element());
    }
  }
}

// The envelopes of a gathered run share one counted reference to their sender (the last
// one's): the copies a receiver keeps must hold the sender themselves, even once it exited
// and every envelope is gone (under ASan a borrowed reference outliving the sender would be a
// use after free).
BOOST_AUTO_TEST_CASE(the_sender_of_gathered_messages_stays_valid_after_it_exits) {
  constexpr std::int64_t kCount = 300;  // several outbox flushes
  for (const char* base : kBases) {
    BOOST_TEST_CONTEXT(base) {
      auto sys = make_system(base);
      const auto keeper = sys.create_actor<outbox_test::keeper>();
      auto sender = sys.create_actor<outbox_test::burster>();
      const std::string sender_text = sender.to_string();
      sys.tell(sender, outbox_test::burst{keeper, 0, kCount});
      sys.tell(sender, thespian::ActorExitRequest{});  // after the burst: same sender, in order
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      outbox_test::kept_senders kept;
      while (std::chrono::steady_clock::now() < deadline) {
        const auto reply = sys.ask(keeper, outbox_test::report{}, 5s);
        if (reply) kept = reply->as<outbox_test::kept_senders>();
        if (std::ssize(kept.senders) >= kCount) break;
      }
      BOOST_TEST(std::ssize(kept.senders) == kCount);
      std::size_t same = 0;
      for (const auto& a : kept.senders) {
        if (a == sender && !a.borrowed() && a.to_string() == sender_text) ++same;
      }
      BOOST_TEST(same == kept.senders.size());
      sender = thespian::ActorAddress{};  // the keeper's copies are now all that hold it
      sys.tell(kept.senders.front(), std::string("to an exited actor"));  // a dead letter
      BOOST_TEST(kept.senders.back().to_string() == sender_text);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
