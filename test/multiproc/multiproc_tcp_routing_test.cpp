// multiprocTCPBase with "Admin Routing" and "Outbound Only" (system_route.hpp, node.hpp), end to
// end, proven from the sockets themselves (/proc/net/tcp and each process's descriptors): with
// Admin Routing every actor address carries the Admin Port and only the admin dials an actor
// process; with Outbound Only no actor process has a listening TCP socket and each one dials
// only the admin (and the program it answers). Messages still flow both ways, a killed child is
// still reported to its parent and its messages become dead letters, a joining program takes
// the admin's routing, and a 50 MiB message crosses the relay. Each case uses a port of its own
// and checks that no process is left.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "../common/loopback_port.hpp"
#include "multiproc_helpers.hpp"

namespace multiproc_tcp_routing_test {

using namespace multiproc_test;

// One TCP socket of this network namespace, from /proc/net/tcp.
struct tcp_socket {
  std::uint16_t local_port = 0;
  std::uint16_t remote_port = 0;
  int state = 0;  // 0x01 established, 0x0A listening
  std::uint64_t inode = 0;
};
constexpr int tcp_established = 0x01;
constexpr int tcp_listen = 0x0A;

std::vector<tcp_socket> tcp_sockets() {
  std::vector<tcp_socket> out;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    std::uint64_t inode = 0;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    if (!fields) continue;
    tcp_socket s;
    s.local_port = static_cast<std::uint16_t>(std::stoul(local.substr(local.find(':') + 1), nullptr, 16));
    s.remote_port =
        static_cast<std::uint16_t>(std::stoul(remote.substr(remote.find(':') + 1), nullptr, 16));
    s.state = std::stoi(state, nullptr, 16);
    s.inode = inode;
    out.push_back(s);
  }
  return out;
}

// The inodes of the sockets `pid` holds open.
std::set<std::uint64_t> socket_inodes(pid_t pid) {
  std::set<std::uint64_t> out;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    const std::string target = std::filesystem::read_symlink(entry.path(), link_ec).string();
    if (link_ec || target.rfind("socket:[", 0) != 0) continue;
    out.insert(std::stoull(target.substr(8, target.size() - 9)));
  }
  return out;
}

// The TCP sockets `pid` holds, in `state`.
std::vector<tcp_socket> sockets_of(pid_t pid, int state) {
  const auto mine = socket_inodes(pid);
  std::vector<tcp_socket> out;
  for (const auto& s : tcp_sockets()) {
    if (s.state == state && mine.contains(s.inode)) out.push_back(s);
  }
  return out;
}

// One Admin Port per case; whatever the case did, nothing of it may be left at the end.
struct routed_port {
  std::int64_t port = thespian_test_common::free_loopback_port();
  thespian::Capabilities caps_with(const char* routing) const {
    return {{"Admin Port", port}, {routing, true}};
  }
  ~routed_port() {
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

// On "spawn": creates a Where child, says hello to it, and answers the asker with the child's
// address once the child's echo came back (a round trip between two actor processes). Reports
// ChildActorExited to the asker; answers "pid".
class Chatty : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "spawn")) {
      asker_ = from;
      child_ = create_actor<Where>();
      send(child_, std::string("hello"));
    } else if (is_text(m, "hello") && from == child_) {
      send(asker_, child_);
    } else if (const auto* exited = m.get<thespian::ChildActorExited>()) {
      if (asker_) send(asker_, std::string("child exited: ") + exited->child.to_string());
    } else if (is_text(m, "pid")) {
      send(from, Pid{::getpid()});
    }
    co_return;
  }

 private:
  ActorAddress asker_;
  ActorAddress child_;
};

pid_t pid_of(thespian::ActorSystem& sys, const ActorAddress& actor) {
  auto reply = sys.ask(actor, std::string("pid"), patience);
  BOOST_REQUIRE(reply.has_value());
  return static_cast<pid_t>(reply->as<Pid>().value);
}

bool flag(const thespian::Capabilities& caps, const char* name) {
  auto it = caps.find(name);
  return it != caps.end() && std::holds_alternative<bool>(it->second) &&
         std::get<bool>(it->second);
}

// A parent and a child that talked to each other through the admin; their pids and the admin's.
struct family {
  ActorAddress parent, child;
  pid_t parent_pid = 0, child_pid = 0, admin_pid = 0;
};

family make_family(thespian::ActorSystem& sys) {
  family f;
  f.parent = sys.create_actor<Chatty>();
  auto reply = sys.ask(f.parent, std::string("spawn"), patience);
  BOOST_REQUIRE_MESSAGE(reply.has_value(), "the parent did not hear back from its child");
  f.child = reply->as<ActorAddress>();
  f.parent_pid = pid_of(sys, f.parent);
  f.child_pid = pid_of(sys, f.child);
  BOOST_REQUIRE(f.parent_pid != f.child_pid);
  BOOST_REQUIRE(f.parent_pid != ::getpid());
  f.admin_pid = session_leader_above(f.child_pid);
  BOOST_REQUIRE(f.admin_pid > 1);
  BOOST_REQUIRE(f.admin_pid != ::getpid());
  return f;
}

// The ports this program listens on (replies from actors come to them directly).
std::set<std::uint16_t> our_listening_ports() {
  std::set<std::uint16_t> out;
  for (const auto& s : sockets_of(::getpid(), tcp_listen)) out.insert(s.local_port);
  return out;
}

void killed_child_is_reported_and_dead_lettered(const thespian::Capabilities& caps) {
  thespian::ActorSystem sys("multiprocTCPBase", caps);
  auto undertaker = sys.create_actor<Undertaker>();
  BOOST_REQUIRE(is_text(sys.ask(undertaker, std::string("register"), patience).value_or(Message{}),
                        "registered"));
  BOOST_REQUIRE(eventually([&] { return sys.status().dead_letter_handler == undertaker; }));
  auto parent = sys.create_actor<Parent>();
  auto reply = sys.ask(parent, std::string("spawn"), patience);
  BOOST_REQUIRE(reply.has_value());
  const auto child = reply->as<ActorAddress>();
  const pid_t child_pid = pid_of(sys, child);
  BOOST_REQUIRE(::kill(child_pid, SIGKILL) == 0);
  auto report = sys.listen(patience);
  BOOST_REQUIRE_MESSAGE(report.has_value(), "the parent was not told that its child died");
  BOOST_TEST(is_text(*report, "child exited: " + child.to_string()));
  sys.tell(child, std::string("after death"));
  auto dead = sys.listen(patience);
  BOOST_REQUIRE_MESSAGE(dead.has_value(), "the message to the dead child was not a dead letter");
  BOOST_TEST(is_text(*dead, "dead letter: after death"));
  // The parent's process lives on and still answers through the admin.
  BOOST_TEST(pid_of(sys, parent) > 0);
  sys.shutdown();
}

// Sends every message back to its sender, ActorExitRequest included: at shutdown the admin
// asks it to exit, and it asks the admin to exit in turn. In a routed system it has the admin's
// own system id, so only "in this process" tells the admin that the request is not its own.
class EchoesEverything : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (from) send(from, m);
    if (m.is<thespian::ActorExitRequest>()) {
      // Waits on a timer, not in sleep_for: the one thread of an actor process also carries
      // its I/O, so a sleeping handler would hold back the echo (its connect) until it returns.
      asio::steady_timer linger(co_await asio::this_coro::executor, std::chrono::milliseconds(300));
      co_await linger.async_wait(asio::use_awaitable);
    }
    co_return;
  }
};

}  // namespace multiproc_tcp_routing_test

using namespace multiproc_tcp_routing_test;

BOOST_FIXTURE_TEST_SUITE(multiproc_tcp_routing, routed_port)

BOOST_AUTO_TEST_CASE(admin_routing_addresses_carry_the_admin_port_and_only_the_admin_dials_actors) {
  thespian::ActorSystem sys("multiprocTCPBase", caps_with("Admin Routing"));
  const auto caps = sys.capabilities();
  BOOST_TEST(flag(caps, "Admin Routing"));
  BOOST_TEST(!flag(caps, "Outbound Only"));
  const family f = make_family(sys);
  const std::string route = "tcp:127.0.0.1:" + std::to_string(port) + "/";
  BOOST_TEST(f.parent.to_string().find(route) != std::string::npos, f.parent.to_string());
  BOOST_TEST(f.child.to_string().find(route) != std::string::npos, f.child.to_string());
  BOOST_TEST(!(f.parent == f.child));
  // Each actor process still listens on a port of its own, but only the admin connects there.
  std::set<std::uint16_t> actor_ports;
  for (pid_t pid : {f.parent_pid, f.child_pid}) {
    const auto listening = sockets_of(pid, tcp_listen);
    BOOST_TEST(listening.size() == 1u);
    for (const auto& s : listening) actor_ports.insert(s.local_port);
  }
  BOOST_TEST_REQUIRE(actor_ports.size() == 2u);
  const auto admin_sockets = socket_inodes(f.admin_pid);
  std::size_t from_admin = 0;
  for (const auto& s : tcp_sockets()) {
    if (s.state != tcp_established || !actor_ports.contains(s.remote_port)) continue;
    BOOST_TEST(admin_sockets.contains(s.inode),
               "a process other than the admin is connected to actor port " << s.remote_port);
    ++from_admin;
  }
  BOOST_TEST(from_admin == 2u);  // one relay connection per actor process
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(outbound_only_actor_processes_listen_nowhere_and_dial_only_the_admin) {
  thespian::ActorSystem sys("multiprocTCPBase", caps_with("Outbound Only"));
  const auto caps = sys.capabilities();
  BOOST_TEST(flag(caps, "Admin Routing"));  // implied
  BOOST_TEST(flag(caps, "Outbound Only"));
  const family f = make_family(sys);
  const std::string route = "tcp:127.0.0.1:" + std::to_string(port) + "/";
  BOOST_TEST(f.child.to_string().find(route) != std::string::npos, f.child.to_string());
  const auto ours = our_listening_ports();
  BOOST_TEST_REQUIRE(!ours.empty());
  for (pid_t pid : {f.parent_pid, f.child_pid}) {
    BOOST_TEST(sockets_of(pid, tcp_listen).empty(), "actor process " << pid << " listens");
    const auto connected = sockets_of(pid, tcp_established);
    // At least its connection to send through the admin and the one it receives on.
    BOOST_TEST(connected.size() >= 2u);
    for (const auto& s : connected) {
      BOOST_TEST((s.remote_port == port || ours.contains(s.remote_port)),
                 "actor process " << pid << " is connected to port " << s.remote_port);
    }
  }
  // Still both ways, after the checks: the child answers, the parent hears from its child.
  BOOST_TEST(is_text(sys.ask(f.child, std::string("still there"), patience).value_or(Message{}),
                     "still there"));
  sys.shutdown();
}

BOOST_AUTO_TEST_CASE(admin_routing_a_killed_child_is_reported_and_its_messages_become_dead_letters) {
  killed_child_is_reported_and_dead_lettered(caps_with("Admin Routing"));
}

BOOST_AUTO_TEST_CASE(outbound_only_a_killed_child_is_reported_and_its_messages_become_dead_letters) {
  killed_child_is_reported_and_dead_lettered(caps_with("Outbound Only"));
}

BOOST_AUTO_TEST_CASE(a_joining_program_takes_the_admins_routing) {
  thespian::ActorSystem first("multiprocTCPBase", caps_with("Outbound Only"));
  auto here = first.create_actor<Where>();
  thespian::ActorSystem second("multiprocTCPBase", thespian::Capabilities{{"Admin Port", port}});
  BOOST_TEST(flag(second.capabilities(), "Outbound Only"));
  BOOST_TEST(flag(second.capabilities(), "Admin Routing"));
  auto there = second.create_actor<Where>();
  BOOST_TEST(sockets_of(pid_of(second, there), tcp_listen).empty());
  BOOST_TEST(is_text(second.ask(here, std::string("from second"), patience).value_or(Message{}),
                     "from second"));
  BOOST_TEST(is_text(first.ask(there, std::string("from first"), patience).value_or(Message{}),
                     "from first"));
  second.shutdown();
  first.shutdown();
}

BOOST_AUTO_TEST_CASE(a_50_mib_message_crosses_the_relay_intact) {
  thespian::ActorSystem sys("multiprocTCPBase", caps_with("Outbound Only"));
  const family f = make_family(sys);
  std::string big(50u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
  auto reply = sys.ask(f.child, big, 60s);
  BOOST_REQUIRE(reply.has_value());
  BOOST_TEST((reply->as<std::string>() == big));
  sys.shutdown();
}

// The admin ends only with its system, also when its actors share its system id (routed).
BOOST_AUTO_TEST_CASE(admin_routing_an_actor_cannot_make_the_admin_exit) {
  warning_collector warnings;
  {
    thespian::ActorSystem sys("multiprocTCPBase", caps_with("Admin Routing"), warnings.options());
    auto echo = sys.create_actor<EchoesEverything>();
    BOOST_REQUIRE(is_text(sys.ask(echo, std::string("hi"), patience).value_or(Message{}), "hi"));
    sys.shutdown();
  }
  // Had the admin exited, shutdown() would have waited out its limit and said so.
  BOOST_TEST(check_admin_shut_down_in_order(warnings.texts()),
             "the admin did not report the ActorExitRequest it ignored");
}

BOOST_AUTO_TEST_SUITE_END()
