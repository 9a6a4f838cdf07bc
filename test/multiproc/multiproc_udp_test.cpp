// multiprocUDPBase end to end: the TCP base's processes and admin daemon, with every system
// reached by UDP datagrams. Beyond the lifetime rules it shares with the TCP base (a later
// program joins the admin, the admin outlives its program, killing it ends every actor), this
// checks what UDP changes: a dead actor process has no connection to refuse, yet messages to it
// become dead letters at once; a message that fits in one datagram crosses, a larger one is
// refused at its sender, clearly. Each case uses a port of its own and checks that no process
// is left.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "../common/loopback_port.hpp"
#include "multiproc_helpers.hpp"

namespace multiproc_udp_test {

using namespace multiproc_test;

// One Admin Port per case; whatever the case did, nothing of it may be left at the end.
struct udp_port {
  thespian::Capabilities caps{{"Admin Port", thespian_test_common::free_loopback_port()}};
  ~udp_port() {
    const bool clean = eventually([] {
      reap_orphans();
      return descendants().empty();
    });
    BOOST_CHECK_MESSAGE(clean, "processes left: " << descendants().size() << " ("
                                                  << live_descendants().size() << " running)");
    if (!clean) {
      for (pid_t pid : live_descendants()) ::kill(pid, SIGKILL);
      eventually([] {
        reap_orphans();
        return live_descendants().empty();
      });
    }
  }
};

// Text of this many bytes, in a pattern that a lost or reordered piece would break.
std::string patterned(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7919) % 26);
  return text;
}

// Told a size, sends its sender a text of that size (which may be too large to send: the
// exception then poisons the request, SEMANTICS.md).
class Sender : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* size = m.get<std::int64_t>()) {
      send(from, patterned(static_cast<std::size_t>(*size)));
    }
    co_return;
  }
};

struct ChildAndPid {
  ActorAddress child;
  std::int64_t pid = 0;
  template <class A> void serialize(A& ar) { ar(child, pid); }
};

// On "spawn", creates a Where child and answers with its address and pid, so that whoever
// asked never sends the child anything itself; reports ChildActorExited to the same asker.
class Relay : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "spawn")) {
      asker_ = from;
      child_ = create_actor<Where>();
      send(child_, std::string("pid"));
    } else if (const auto* pid = m.get<Pid>()) {
      send(asker_, ChildAndPid{child_, pid->value});
    } else if (const auto* exited = m.get<thespian::ChildActorExited>()) {
      send(asker_, std::string("child exited: ") + exited->child.to_string());
    }
    co_return;
  }

 private:
  ActorAddress asker_;
  ActorAddress child_;
};

bool names_the_limit(const std::string& what) {
  return what.find("too large for multiprocUDPBase") != std::string::npos &&
         what.find("65507") != std::string::npos;
}

// The admin's pid: the session leader above one of its actor processes.
pid_t admin_pid_of(thespian::ActorSystem& sys, const ActorAddress& actor) {
  auto reply = sys.ask(actor, std::string("pid"), patience);
  BOOST_REQUIRE(reply.has_value());
  const pid_t admin = session_leader_above(static_cast<pid_t>(reply->as<Pid>().value));
  BOOST_REQUIRE(admin > 1);
  BOOST_REQUIRE(admin != ::getpid());
  BOOST_REQUIRE(descendants().contains(admin));
  return admin;
}

}  // namespace multiproc_udp_test

THESPIAN_MESSAGE(multiproc_udp_test::ChildAndPid);

using namespace multiproc_udp_test;

BOOST_FIXTURE_TEST_SUITE(multiproc_udp, udp_port)

BOOST_AUTO_TEST_CASE(actors_listen_on_udp_and_answer_from_their_own_processes) {
  thespian::ActorSystem sys("multiprocUDPBase", caps);
  auto a = sys.create_actor<Where>();
  auto b = sys.create_actor<Where>();
  BOOST_TEST(a.to_string().find("udp:127.0.0.1:") != std::string::npos);
  auto pa = sys.ask(a, std::string("pid"), patience);
  auto pb = sys.ask(b, std::string("pid"), patience);
  BOOST_REQUIRE(pa && pb);
  BOOST_TEST(pa->as<Pid>().value != pb->as<Pid>().value);
  BOOST_TEST(pa->as<Pid>().value != ::getpid());
  const auto status = sys.status();
  const auto port = std::get<std::int64_t>(caps.at("Admin Port"));
  BOOST_TEST(status.admin_address == "udp:127.0.0.1:" + std::to_string(port));
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(a_second_system_on_the_admin_port_joins_and_interoperates) {
  thespian::ActorSystem first("multiprocUDPBase", caps);
  auto here = first.create_actor<Where>();
  thespian::ActorSystem second("multiprocUDPBase", caps);
  auto there = second.create_actor<Where>();
  BOOST_TEST(is_text(second.ask(here, std::string("from second"), patience).value_or(Message{}),
                     "from second"));
  BOOST_TEST(is_text(first.ask(there, std::string("from first"), patience).value_or(Message{}),
                     "from first"));
  BOOST_TEST(first.status().actor_count == 2u);
  BOOST_TEST(second.status().actor_count == 2u);
  auto named = first.create_actor<Where>({}, "the-one");
  BOOST_TEST(second.create_actor<Where>({}, "the-one") == named);
  second.shutdown();
  BOOST_TEST(eventually([] { return live_descendants().empty(); }));
  first.shutdown();
}

BOOST_AUTO_TEST_CASE(the_admin_outlives_the_program_that_started_it) {
  ActorAddress kept;
  {
    thespian::ActorSystem starter("multiprocUDPBase", caps);
    kept = starter.create_actor<Where>();
    BOOST_REQUIRE(starter.ask(kept, std::string("pid"), patience).has_value());
  }  // no shutdown(): the admin and its actor stay
  BOOST_TEST(!descendants().empty());
  thespian::ActorSystem later("multiprocUDPBase", caps);
  BOOST_TEST(is_text(later.ask(kept, std::string("still here"), patience).value_or(Message{}),
                     "still here"));
  later.shutdown();
  BOOST_TEST(eventually([] { return live_descendants().empty(); }));
}

BOOST_AUTO_TEST_CASE(a_killed_child_is_reported_and_its_messages_become_dead_letters_at_once) {
  thespian::ActorSystem sys("multiprocUDPBase", caps);
  auto undertaker = sys.create_actor<Undertaker>();
  BOOST_REQUIRE(is_text(sys.ask(undertaker, std::string("register"), patience).value_or(Message{}),
                        "registered"));
  BOOST_REQUIRE(eventually([&] { return sys.status().dead_letter_handler == undertaker; }));
  auto parent = sys.create_actor<Parent>();
  auto reply = sys.ask(parent, std::string("spawn"), patience);
  BOOST_REQUIRE(reply.has_value());
  const auto child = reply->as<ActorAddress>();
  auto child_pid = sys.ask(child, std::string("pid"), patience);
  BOOST_REQUIRE(child_pid.has_value());
  BOOST_REQUIRE(::kill(static_cast<pid_t>(child_pid->as<Pid>().value), SIGKILL) == 0);
  auto report = sys.listen(patience);
  BOOST_REQUIRE_MESSAGE(report.has_value(), "the parent was not told that its child died");
  BOOST_TEST(is_text(*report, "child exited: " + child.to_string()));
  // This program never learnt of the exit: only the unreachable port tells it, at once (the
  // transmit timeout would take minutes).
  const auto sent = std::chrono::steady_clock::now();
  sys.tell(child, std::string("after death"));
  auto dead = sys.listen(patience);
  // The child may have died before its ACK of "pid" left (its reply can overtake the ACK): that
  // message's delivery is then unknown here and it is reported as a dead letter too, as TCP
  // reports a message written but unacknowledged when its connection drops.
  if (dead.has_value() && is_text(*dead, "dead letter: pid")) dead = sys.listen(patience);
  BOOST_REQUIRE_MESSAGE(dead.has_value(), "the message to the dead child was not a dead letter");
  BOOST_TEST(is_text(*dead, "dead letter: after death"),
             "got " << (dead->is<std::string>() ? dead->as<std::string>() : dead->type_name()));
  BOOST_TEST((std::chrono::steady_clock::now() - sent < 2s));
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(messages_to_a_process_this_program_never_reached_become_dead_letters_at_once) {
  thespian::ActorSystem sys("multiprocUDPBase", caps);
  auto undertaker = sys.create_actor<Undertaker>();
  BOOST_REQUIRE(is_text(sys.ask(undertaker, std::string("register"), patience).value_or(Message{}),
                        "registered"));
  BOOST_REQUIRE(eventually([&] { return sys.status().dead_letter_handler == undertaker; }));
  auto relay = sys.create_actor<Relay>();
  auto reply = sys.ask(relay, std::string("spawn"), patience);
  BOOST_REQUIRE(reply.has_value());
  const auto [child, pid] = reply->as<ChildAndPid>();
  BOOST_REQUIRE(::kill(static_cast<pid_t>(pid), SIGKILL) == 0);
  auto report = sys.listen(patience);
  // The child may have died before its ACK of "pid" left (its reply can overtake the ACK): the
  // relay then reports "pid" as a dead letter, through the undertaker, in any order with the
  // exit report.
  const bool pid_lost = report.has_value() && is_text(*report, "dead letter: pid");
  if (pid_lost) report = sys.listen(patience);
  BOOST_REQUIRE_MESSAGE(report.has_value(), "the parent was not told that its child died");
  BOOST_TEST(is_text(*report, "child exited: " + child.to_string()),
             "got " << (report->is<std::string>() ? report->as<std::string>() : report->type_name()));
  // No answer from that port ever reached this program, so "port unreachable" alone cannot
  // tell a dead process from one still starting; the port being free does (a starting one's
  // port is reserved), without waiting out the 30 s grace.
  const auto sent = std::chrono::steady_clock::now();
  sys.tell(child, std::string("never reached"));
  auto dead = sys.listen(patience);
  if (!pid_lost && dead.has_value() && is_text(*dead, "dead letter: pid")) dead = sys.listen(patience);
  BOOST_REQUIRE_MESSAGE(dead.has_value(), "the message to the dead child was not a dead letter");
  BOOST_TEST(is_text(*dead, "dead letter: never reached"),
             "got " << (dead->is<std::string>() ? dead->as<std::string>() : dead->type_name()));
  BOOST_TEST((std::chrono::steady_clock::now() - sent < 2s));
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(an_actor_that_calls_exit_is_reported_and_its_messages_become_dead_letters) {
  thespian::ActorSystem sys("multiprocUDPBase", caps);
  auto undertaker = sys.create_actor<Undertaker>();
  BOOST_REQUIRE(is_text(sys.ask(undertaker, std::string("register"), patience).value_or(Message{}),
                        "registered"));
  BOOST_REQUIRE(eventually([&] { return sys.status().dead_letter_handler == undertaker; }));
  auto parent = sys.create_actor<Parent>();
  auto reply = sys.ask(parent, std::string("spawn"), patience);
  BOOST_REQUIRE(reply.has_value());
  const auto child = reply->as<ActorAddress>();
  sys.tell(child, std::string("exit"));
  auto report = sys.listen(patience);
  // As above: "exit" may be reported too, if the process ended before its ACK left, and then
  // before or after the parent's report.
  bool exit_reported = false;
  if (report.has_value() && is_text(*report, "dead letter: exit")) {
    exit_reported = true;
    report = sys.listen(patience);
  }
  BOOST_REQUIRE_MESSAGE(report.has_value(), "the parent was not told that its child exited");
  BOOST_TEST(is_text(*report, "child exited: " + child.to_string()),
             "got " << (report->is<std::string>() ? report->as<std::string>() : report->type_name()));
  const auto sent = std::chrono::steady_clock::now();
  sys.tell(child, std::string("after exit"));
  auto dead = sys.listen(patience);
  if (!exit_reported && dead.has_value() && is_text(*dead, "dead letter: exit")) {
    dead = sys.listen(patience);
  }
  BOOST_REQUIRE_MESSAGE(dead.has_value(), "the message to the exited child was not a dead letter");
  BOOST_TEST(is_text(*dead, "dead letter: after exit"));
  BOOST_TEST((std::chrono::steady_clock::now() - sent < 2s));
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(a_message_that_fits_a_datagram_crosses_and_a_larger_one_is_refused_clearly) {
  thespian::ActorSystem sys("multiprocUDPBase", caps);
  auto echo = sys.create_actor<Where>();
  // Just under the limit (the frame adds its header and both addresses): intact both ways.
  const std::string big = patterned(65000);
  auto reply = sys.ask(echo, big, patience);
  BOOST_REQUIRE(reply.has_value());
  BOOST_TEST((reply->as<std::string>() == big));
  // Over it: refused at the sender, from outside...
  BOOST_CHECK_EXCEPTION(sys.tell(echo, patterned(64u << 10)), thespian::UnserializableMessage,
                        [](const auto& e) { return names_the_limit(e.what()); });
  BOOST_CHECK_EXCEPTION(sys.tell(echo, patterned(1u << 20)), thespian::UnserializableMessage,
                        [](const auto& e) { return names_the_limit(e.what()); });
  // ...and from an actor, whose request comes back as a PoisonMessage naming the reason.
  auto sender = sys.create_actor<Sender>();
  auto fits = sys.ask(sender, std::int64_t{60000}, patience);
  BOOST_REQUIRE(fits.has_value());
  BOOST_TEST((fits->as<std::string>() == patterned(60000)));
  auto poisoned = sys.ask(sender, std::int64_t{100000}, patience);
  BOOST_REQUIRE(poisoned.has_value());
  BOOST_REQUIRE_MESSAGE(poisoned->is<thespian::PoisonMessage>(), "got a " << poisoned->type_name());
  BOOST_TEST(names_the_limit(poisoned->as<thespian::PoisonMessage>().details));
  // The system goes on.
  BOOST_TEST(is_text(sys.ask(echo, std::string("still fine"), patience).value_or(Message{}),
                     "still fine"));
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(sigterm_to_the_admin_shuts_the_system_down) {
  thespian::ActorSystem sys("multiprocUDPBase", caps);
  auto a = sys.create_actor<Where>();
  const pid_t admin = admin_pid_of(sys, a);
  BOOST_REQUIRE(::kill(admin, SIGTERM) == 0);
  BOOST_TEST(eventually([] { return live_descendants().empty(); }));
  sys.shutdown();  // the admin is gone: this only collects its exit status
}

BOOST_AUTO_TEST_CASE(killing_the_admin_ends_every_actor_process) {
  thespian::ActorSystem sys("multiprocUDPBase", caps);
  std::vector<ActorAddress> actors;
  for (int i = 0; i < 3; ++i) actors.push_back(sys.create_actor<Parent>());
  for (const auto& a : actors) {
    auto child = sys.ask(a, std::string("spawn"), patience);
    BOOST_REQUIRE(child.has_value());
    BOOST_REQUIRE(sys.ask(child->as<ActorAddress>(), std::string("pid"), patience).has_value());
  }
  const pid_t admin = admin_pid_of(sys, actors.front());
  BOOST_REQUIRE(::kill(admin, SIGKILL) == 0);
  BOOST_TEST(eventually([] { return live_descendants().empty(); }),
             "actor processes outlived the admin");
  sys.shutdown();
}

BOOST_AUTO_TEST_SUITE_END()
