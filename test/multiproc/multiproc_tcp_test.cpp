// multiprocTCPBase end to end: actor processes that listen on TCP, and an admin that is a daemon
// on its Admin Port. Beyond what the queue base promises, this checks BASES.md's lifetime rules:
// a later program joins the admin and its actors interoperate with the first program's, the
// admin outlives the program that started it and ends only with shutdown() (or SIGTERM), a
// program cannot join an admin that is shutting down, and killing the admin ends every actor
// process. Each case uses a port of its own and checks that no process is left.
#include <signal.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "../common/loopback_port.hpp"
#include "multiproc_helpers.hpp"

namespace multiproc_tcp_test {

using namespace multiproc_test;

// One Admin Port per case; whatever the case did, nothing of it may be left at the end.
struct tcp_port {
  thespian::Capabilities caps{{"Admin Port", thespian_test_common::free_loopback_port()}};
  ~tcp_port() {
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

// On an exit request, tells its witness "exiting" and then takes `linger` to exit.
class Slow : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "watch")) {
      witness_ = from;
      send(from, std::string("watching"));
    } else if (m.is<thespian::ActorExitRequest>()) {
      if (witness_) send(witness_, std::string("exiting"));
      std::this_thread::sleep_for(2s);
    } else if (is_text(m, "pid")) {
      send(from, Pid{::getpid()});
    }
    co_return;
  }

 private:
  ActorAddress witness_;
};

// The admin's pid: the session leader above one of its actor processes (the daemon admin
// calls setsid; its actor processes, forked or spawned, stay in its session).
pid_t admin_pid_of(thespian::ActorSystem& sys, const ActorAddress& actor) {
  auto reply = sys.ask(actor, std::string("pid"), patience);
  BOOST_REQUIRE(reply.has_value());
  const pid_t admin = session_leader_above(static_cast<pid_t>(reply->as<Pid>().value));
  BOOST_REQUIRE(admin > 1);
  BOOST_REQUIRE(admin != ::getpid());
  BOOST_REQUIRE(descendants().contains(admin));
  return admin;
}

}  // namespace multiproc_tcp_test

using namespace multiproc_tcp_test;

BOOST_FIXTURE_TEST_SUITE(multiproc_tcp, tcp_port)

BOOST_AUTO_TEST_CASE(actors_listen_on_tcp_and_answer_from_their_own_processes) {
  thespian::ActorSystem sys("multiprocTCPBase", caps);
  auto a = sys.create_actor<Where>();
  auto b = sys.create_actor<Where>();
  BOOST_TEST(a.to_string().find("tcp:127.0.0.1:") != std::string::npos);
  auto pa = sys.ask(a, std::string("pid"), patience);
  auto pb = sys.ask(b, std::string("pid"), patience);
  BOOST_REQUIRE(pa && pb);
  BOOST_TEST(pa->as<Pid>().value != pb->as<Pid>().value);
  BOOST_TEST(pa->as<Pid>().value != ::getpid());
  const auto status = sys.status();
  const auto port = std::get<std::int64_t>(caps.at("Admin Port"));
  BOOST_TEST(status.admin_address == "tcp:127.0.0.1:" + std::to_string(port));
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(a_second_system_on_the_admin_port_joins_and_interoperates) {
  thespian::ActorSystem first("multiprocTCPBase", caps);
  auto here = first.create_actor<Where>();
  thespian::ActorSystem second("multiprocTCPBase", caps);
  auto there = second.create_actor<Where>();
  // Each program reaches the other's actors, and both see one system.
  BOOST_TEST(is_text(second.ask(here, std::string("from second"), patience).value_or(Message{}),
                     "from second"));
  BOOST_TEST(is_text(first.ask(there, std::string("from first"), patience).value_or(Message{}),
                     "from first"));
  BOOST_TEST(first.status().actor_count == 2u);
  BOOST_TEST(second.status().actor_count == 2u);
  // A global name made by one program is found by the other.
  auto named = first.create_actor<Where>({}, "the-one");
  BOOST_TEST(second.create_actor<Where>({}, "the-one") == named);
  // shutdown() from either program ends the whole system (the admin's exit status is the
  // first program's to collect, in its shutdown()).
  second.shutdown();
  BOOST_TEST(eventually([] { return live_descendants().empty(); }));
  first.shutdown();
}

BOOST_AUTO_TEST_CASE(the_admin_outlives_the_program_that_started_it) {
  ActorAddress kept;
  {
    thespian::ActorSystem starter("multiprocTCPBase", caps);
    kept = starter.create_actor<Where>();
    BOOST_REQUIRE(starter.ask(kept, std::string("pid"), patience).has_value());
  }  // no shutdown(): the admin and its actor stay
  BOOST_TEST(!descendants().empty());
  thespian::ActorSystem later("multiprocTCPBase", caps);
  BOOST_TEST(is_text(later.ask(kept, std::string("still here"), patience).value_or(Message{}),
                     "still here"));
  later.shutdown();
  BOOST_TEST(eventually([] { return live_descendants().empty(); }));
}

BOOST_AUTO_TEST_CASE(joining_an_admin_that_is_shutting_down_fails_clearly) {
  thespian::ActorSystem sys("multiprocTCPBase", caps);
  auto slow = sys.create_actor<Slow>();
  auto witness = sys.private_context();
  BOOST_REQUIRE(is_text(witness.ask(slow, std::string("watch"), patience).value_or(Message{}),
                        "watching"));
  auto shutting = std::async(std::launch::async, [&sys] { sys.shutdown(); });
  // "exiting" arrives once the admin is shutting down; the actor then lingers for 2 s.
  BOOST_REQUIRE(is_text(witness.listen(patience).value_or(Message{}), "exiting"));
  BOOST_CHECK_EXCEPTION(thespian::ActorSystem("multiprocTCPBase", caps),
                        thespian::ActorSystemStartupFailure, [](const auto& e) {
                          return std::string(e.what()).find("shutting down") != std::string::npos;
                        });
  shutting.get();
}

BOOST_AUTO_TEST_CASE(sigterm_to_the_admin_shuts_the_system_down_in_order) {
  thespian::ActorSystem sys("multiprocTCPBase", caps);
  auto slow = sys.create_actor<Slow>();
  auto witness = sys.private_context();
  BOOST_REQUIRE(is_text(witness.ask(slow, std::string("watch"), patience).value_or(Message{}),
                        "watching"));
  const pid_t admin = admin_pid_of(sys, slow);
  BOOST_REQUIRE(::kill(admin, SIGTERM) == 0);
  // In order: the actor is asked to exit (it is not simply killed).
  BOOST_TEST(is_text(witness.listen(patience).value_or(Message{}), "exiting"));
  BOOST_TEST(eventually([] { return live_descendants().empty(); }));
  sys.shutdown();  // the admin is gone: this only collects its exit status
}

BOOST_AUTO_TEST_CASE(killing_the_admin_ends_every_actor_process) {
  thespian::ActorSystem sys("multiprocTCPBase", caps);
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

BOOST_AUTO_TEST_CASE(a_killed_child_is_reported_and_its_messages_become_dead_letters) {
  thespian::ActorSystem sys("multiprocTCPBase", caps);
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
  sys.tell(child, std::string("after death"));
  auto dead = sys.listen(patience);
  BOOST_REQUIRE_MESSAGE(dead.has_value(), "the message to the dead child was not a dead letter");
  BOOST_TEST(is_text(*dead, "dead letter: after death"));
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(a_50_mib_message_crosses_intact) {
  thespian::ActorSystem sys("multiprocTCPBase", caps);
  auto echo = sys.create_actor<Where>();
  std::string big(50u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
  auto reply = sys.ask(echo, big, 60s);
  BOOST_REQUIRE(reply.has_value());
  BOOST_TEST((reply->as<std::string>() == big));
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(a_bad_admin_port_is_refused_clearly) {
  const thespian::Capabilities bad{{"Admin Port", std::int64_t{70000}}};
  BOOST_CHECK_EXCEPTION(thespian::ActorSystem("multiprocTCPBase", bad),
                        thespian::ActorSystemStartupFailure, [](const auto& e) {
                          return std::string(e.what()).find("Admin Port") != std::string::npos;
                        });
}

BOOST_AUTO_TEST_SUITE_END()
