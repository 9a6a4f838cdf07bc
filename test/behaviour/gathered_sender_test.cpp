// The sender of a message stays valid for as long as the message is kept, even when the sender
// has exited meanwhile. In-process, the sends one on_message() call makes to one target are
// gathered and all but the run's last borrow the sender's address without counting a reference
// (ActorAddress::borrow): the run's last one keeps the sender alive while the others are handled
// in order. These tests take a run out of order (an actor exiting recursively handles the
// ChildActorExited messages it waits for at once and keeps the rest, and the exit request
// itself, for later), let the sender exit, and check that what was kept still names it: without its own reference the kept
// envelope would point at a freed actor (a use after free that ASan reports).
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace gathered_sender_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;
using thespian_test::patience;

// Answers "wait" once it has been told "release" (before or after the wait).
class Gate : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "wait")) {
      waiter_ = from;
    } else if (is_text(m, "release")) {
      released_ = true;
    }
    if (released_ && waiter_) {
      send(waiter_, std::string("go"));
      waiter_ = ActorAddress{};
    }
    co_return;
  }

 private:
  ActorAddress waiter_;
  bool released_ = false;
};

// Given a gate, asks it and so holds back (and delays) its own exit until the gate opens.
class Lingerer : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress) override {
    if (const auto* gate = m.get<ActorAddress>()) {
      (void)co_await ask(*gate, std::string("wait"), 2 * patience);
    }
    co_return;
  }
};

// Given a gate, starts a Lingerer child waiting on it and answers "ready"; exits recursively
// when asked, so it waits for that child while other mail arrives, and then tells whoever gave
// it the gate who asked it to exit ("exit from <address>").
class Parent : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* gate = m.get<ActorAddress>()) {
      requester_ = from;
      send(create_actor<Lingerer>(), *gate);
      send(from, std::string("ready"));
    } else if (m.is<thespian::ActorExitRequest>()) {
      send(requester_, "exit from " + from.to_string());
    }
    co_return;
  }

 private:
  ActorAddress requester_;
};

// Given a target, sends it a ChildActorExited, `Middle` and another ChildActorExited in one
// on_message() call (one gathered run after the first), then exits.
template <class Middle>
class Burst : public thespian::Actor {
 public:
  bool on_message(const Message& m, const ActorAddress&) override {
    if (const auto* target = m.get<ActorAddress>()) {
      send(*target, thespian::ChildActorExited{});
      send(*target, Middle::make());
      send(*target, thespian::ChildActorExited{});
      send(my_address(), thespian::ActorExitRequest{});
    }
    return true;
  }
  asio::awaitable<void> receive(Message, ActorAddress) override { co_return; }
};

struct kept_text {
  static Message make() { return std::string("kept"); }
};
struct exit_request {
  static Message make() { return thespian::ActorExitRequest{}; }
};

// Given a target, starts a Burst<Middle> child aimed at it; answers with that child's printable
// address once the child has exited (and the parent has dropped its address).
template <class Middle>
class Watcher : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* target = m.get<ActorAddress>()) {
      requester_ = from;
      auto burst = create_actor<Burst<Middle>>();
      burst_name_ = burst.to_string();
      send(burst, *target);
    } else if (m.is<thespian::ChildActorExited>()) {
      send(requester_, burst_name_);
    }
    co_return;
  }

 private:
  ActorAddress requester_;
  std::string burst_name_;
};

// Reports each dead letter's text and sender's printable address as "text from address".
class SenderUndertaker : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "register")) {
      reporter_ = from;
      handle_dead_letters();
      send(from, std::string("registered"));
    } else if (const auto* dead = m.get<thespian::DeadEnvelope>()) {
      const auto* text = dead->dead_message.get<std::string>();
      if (reporter_ && text) send(reporter_, *text + " from " + from.to_string());
    }
    co_return;
  }

 private:
  ActorAddress reporter_;
};

}  // namespace gathered_sender_test

using namespace gathered_sender_test;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(gathered_sender, thespian_test::system_fixture)

// The parent, exiting, keeps "kept" for after its child has gone and then dead-letters it;
// the dead letter names the Burst actor as its sender although it exited long before.
BOOST_AUTO_TEST_CASE(a_message_kept_out_of_order_still_names_its_exited_sender) {
  if (thespian_test::is_multiprocess()) {
    // Gathering (and the borrowed sender) is within one process; each actor has its own here.
    BOOST_TEST_MESSAGE("in-process bases only");
    return;
  }
  auto letters = sys.private_context();
  auto undertaker = sys.create_actor<SenderUndertaker>();
  BOOST_REQUIRE(text_of(letters.ask(undertaker, "register", patience)) == "registered");
  BOOST_REQUIRE(thespian_test::wait_until(
      sys, [&] { return sys.status().dead_letter_handler == undertaker; }));

  auto gate = sys.create_actor<Gate>();
  auto parent = sys.create_actor<Parent>();
  BOOST_REQUIRE(text_of(sys.ask(parent, gate, patience)) == "ready");
  // The parent now waits for its child, which waits for the gate.
  sys.tell(parent, thespian::ActorExitRequest{});

  const std::string burst = text_of(sys.ask(sys.create_actor<Watcher<kept_text>>(), parent, patience));
  BOOST_REQUIRE(burst.rfind("<a ", 0) != 0);
  BOOST_REQUIRE(burst != "<nothing>");

  sys.tell(gate, std::string("release"));  // the child exits, then the parent
  std::string seen;
  while (auto m = letters.listen(patience)) {
    if (const auto* text = m->get<std::string>(); text && text->rfind("kept ", 0) == 0) {
      seen = *text;
      break;
    }
  }
  BOOST_TEST(seen == "kept from " + burst);
}

// The parent is asked to exit by a gathered run's middle message, whose sender it tells only
// after its child has gone: after the run's last message, handled at once, and the sender's exit.
BOOST_AUTO_TEST_CASE(an_exit_request_taken_out_of_order_still_names_its_exited_sender) {
  if (thespian_test::is_multiprocess()) {
    BOOST_TEST_MESSAGE("in-process bases only");
    return;
  }
  auto reports = sys.private_context();
  auto gate = sys.create_actor<Gate>();
  auto parent = sys.create_actor<Parent>();
  BOOST_REQUIRE(text_of(reports.ask(parent, gate, patience)) == "ready");

  const std::string burst =
      text_of(sys.ask(sys.create_actor<Watcher<exit_request>>(), parent, patience));
  BOOST_REQUIRE(burst.rfind("<a ", 0) != 0);
  BOOST_REQUIRE(burst != "<nothing>");

  sys.tell(gate, std::string("release"));  // the child exits, then the parent
  BOOST_TEST(text_of(reports.listen(patience)) == "exit from " + burst);
}

BOOST_AUTO_TEST_SUITE_END()
