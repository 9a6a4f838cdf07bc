// A multi-process base against the floor of the same run: actor-process creation rate, ask
// round trip from outside, and actor-to-actor ping-pong across processes, next to a raw round
// trip of the same 64 bytes between two processes over the base's own kind of socket (blocking
// write/read): a UNIX socket pair for multiprocQueueBase, a loopback TCP connection with
// TCP_NODELAY for multiprocTCPBase, two connected loopback UDP sockets for multiprocUDPBase
// (one datagram each way, no acknowledgement: the floor, not a reliable protocol).
// The creation rate is measured three ways, each until every actor created has answered a
// message (its constructor ran and its process listens): one create_actor() after another from
// outside; from outside on several threads at once (a private context each); and by an actor
// that creates them all in a loop (in an actor, create_actor returns the address at once, so
// the admin starts them concurrently). Between phases the actors exit and the admin's count
// is waited back to zero, so that one phase's exits do not slow the next.
// On multiprocTCPBase, `routing` "admin-routing" or "outbound-only" turns on that capability
// (every actor-to-actor message then goes through the admin's relay).
// Usage: multiproc_bench [round_trips=2000] [actors=200] [base=multiprocQueueBase] [routing]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <thespian/thespian.hpp>

namespace {

using clock_type = std::chrono::steady_clock;
using thespian::ActorAddress;
using thespian::Message;

struct PingPong {
  ActorAddress partner;
  std::int64_t rounds = 0;
  template <class A> void serialize(A& ar) { ar(partner, rounds); }
};
struct Ball {
  std::int64_t left = 0;
  template <class A> void serialize(A& ar) { ar(left); }
};
struct Done {
  std::int64_t nanoseconds = 0;
  template <class A> void serialize(A& ar) { ar(nanoseconds); }
};

// Answers every Ball; with a PingPong, serves `rounds` balls to the partner and reports the time.
class Player : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* start = m.get<PingPong>()) {
      report_to_ = from;
      started_ = clock_type::now();
      send(start->partner, Ball{start->rounds});
    } else if (const auto* ball = m.get<Ball>()) {
      if (report_to_ && ball->left <= 1) {
        send(report_to_, Done{std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  clock_type::now() - started_).count()});
        report_to_ = ActorAddress{};
      } else if (report_to_) {
        send(from, Ball{ball->left - 1});
      } else {
        send(from, Ball{ball->left});
      }
    } else if (m.is<std::string>()) {
      send(from, m);
    }
    co_return;
  }

 private:
  ActorAddress report_to_;
  clock_type::time_point started_;
};

struct SpawnMany {
  std::int64_t count = 0;
  template <class A> void serialize(A& ar) { ar(count); }
};

// Creates `count` Players at once, sends each a string and reports when every one answered.
class Spawner : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* spawn = m.get<SpawnMany>()) {
      report_to_ = from;
      started_ = clock_type::now();
      waiting_ = spawn->count;
      for (std::int64_t i = 0; i < spawn->count; ++i) {
        children_.push_back(create_actor<Player>());
        send(children_.back(), std::string("x"));
      }
    } else if (m.is<std::string>() && waiting_ > 0 && --waiting_ == 0) {
      send(report_to_, Done{std::chrono::duration_cast<std::chrono::nanoseconds>(
                                clock_type::now() - started_).count()});
      for (const auto& child : children_) send(child, thespian::ActorExitRequest{});
      children_.clear();
    }
    co_return;
  }

 private:
  ActorAddress report_to_;
  clock_type::time_point started_;
  std::int64_t waiting_ = 0;
  std::vector<ActorAddress> children_;
};

// Waits (bounded) until the admin counts no more than `left` actors.
void wait_for_actor_count(thespian::ActorSystem& sys, std::size_t left) {
  const auto deadline = clock_type::now() + std::chrono::seconds(60);
  while (sys.status().actor_count > left && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Creates `actors` from outside on `threads` threads (a private context each) and asks each
// actor once; returns the seconds taken. The actors are told to exit afterwards.
double create_from_outside(thespian::ActorSystem& sys, int actors, int threads) {
  std::vector<std::vector<ActorAddress>> made(threads);
  std::vector<std::thread> workers;
  const auto start = clock_type::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&sys, &made, t, actors, threads] {
      auto context = sys.private_context();
      for (int i = t; i < actors; i += threads) made[t].push_back(context.create_actor<Player>());
      for (const auto& a : made[t]) {
        if (!context.ask(a, std::string("x"), std::chrono::seconds(30))) std::abort();
      }
    });
  }
  for (auto& w : workers) w.join();
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  for (const auto& list : made) {
    for (const auto& a : list) sys.tell(a, thespian::ActorExitRequest{});
  }
  return seconds;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// A connected loopback TCP pair (Nagle off on both ends), as a socketpair would give.
void tcp_pair(int sv[2]) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::abort();
  }
  sv[0] = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(sv[0], reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) std::abort();
  sv[1] = ::accept(listener, nullptr, nullptr);
  if (sv[1] < 0) std::abort();
  ::close(listener);
  const int on = 1;
  for (int i = 0; i < 2; ++i) ::setsockopt(sv[i], IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

// Two loopback UDP sockets connected to each other.
void udp_pair(int sv[2]) {
  sockaddr_in address[2]{};
  for (int i = 0; i < 2; ++i) {
    sv[i] = ::socket(AF_INET, SOCK_DGRAM, 0);
    address[i].sin_family = AF_INET;
    address[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address[i];
    if (sv[i] < 0 ||
        ::bind(sv[i], reinterpret_cast<sockaddr*>(&address[i]), sizeof address[i]) != 0 ||
        ::getsockname(sv[i], reinterpret_cast<sockaddr*>(&address[i]), &length) != 0) {
      std::abort();
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (::connect(sv[i], reinterpret_cast<sockaddr*>(&address[1 - i]), sizeof address[i]) != 0) {
      std::abort();
    }
  }
}

enum class raw_kind { unix_socket, tcp, udp };

// Raw floor: 64 bytes there and back between two processes, in µs.
double raw_round_trip_us(int rounds, raw_kind kind) {
  int sv[2];
  if (kind == raw_kind::tcp) {
    tcp_pair(sv);
  } else if (kind == raw_kind::udp) {
    udp_pair(sv);
  } else if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    std::abort();
  }
  std::fflush(nullptr);
  const pid_t child = ::fork();
  std::array<char, 64> buf{};
  if (child == 0) {
    ::close(sv[0]);
    for (int i = 0; i < rounds; ++i) {
      if (::read(sv[1], buf.data(), buf.size()) <= 0) ::_exit(1);
      if (::write(sv[1], buf.data(), buf.size()) <= 0) ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(sv[1]);
  const auto start = clock_type::now();
  for (int i = 0; i < rounds; ++i) {
    if (::write(sv[0], buf.data(), buf.size()) <= 0) std::abort();
    std::size_t got = 0;
    while (got < buf.size()) {
      const auto n = ::read(sv[0], buf.data() + got, buf.size() - got);
      if (n <= 0) std::abort();
      got += static_cast<std::size_t>(n);
    }
  }
  const double us = std::chrono::duration<double, std::micro>(clock_type::now() - start).count();
  ::close(sv[0]);
  ::waitpid(child, nullptr, 0);
  return us / rounds;
}

// Raw floor of a process start: fork() this (still single-threaded) program, the child answers
// one byte on a socket pair and exits, the parent reaps it; processes per second, one at a time.
double raw_fork_rate(int processes) {
  const auto start = clock_type::now();
  for (int i = 0; i < processes; ++i) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child == 0) {
      const char byte = 1;
      ::_exit(::write(sv[1], &byte, 1) == 1 ? 0 : 1);
    }
    ::close(sv[1]);
    char byte = 0;
    if (child < 0 || ::read(sv[0], &byte, 1) != 1) std::abort();
    ::close(sv[0]);
    ::waitpid(child, nullptr, 0);
  }
  return processes / std::chrono::duration<double>(clock_type::now() - start).count();
}

}  // namespace

THESPIAN_MESSAGE(PingPong);
THESPIAN_MESSAGE(Ball);
THESPIAN_MESSAGE(Done);
THESPIAN_MESSAGE(SpawnMany);

// A loopback port that was free a moment ago, for TCP and UDP (the daemon admin's Admin Port).
std::int64_t free_port() {
  for (;;) {
    int sv[2];
    tcp_pair(sv);
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(sv[1], reinterpret_cast<sockaddr*>(&address), &length);
    ::close(sv[0]);
    ::close(sv[1]);
    const int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
    const bool udp_free =
        udp >= 0 && ::bind(udp, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(udp);
    if (udp_free) return ntohs(address.sin_port);
  }
}

int main(int argc, char** argv) {
  thespian::serve_actor_process(argc, argv);
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int actors = argc > 2 ? std::atoi(argv[2]) : 200;
  const std::string base = argc > 3 ? argv[3] : "multiprocQueueBase";
  const raw_kind kind = base == "multiprocTCPBase"   ? raw_kind::tcp
                        : base == "multiprocUDPBase" ? raw_kind::udp
                                                     : raw_kind::unix_socket;
  const std::string routing = argc > 4 ? argv[4] : "";
  // The raw floor first, while this program is single-threaded (it forks).
  const double raw_us = raw_round_trip_us(rounds, kind);
  const double raw_forks = raw_fork_rate(actors);

  thespian::Capabilities caps;
  if (kind != raw_kind::unix_socket) caps["Admin Port"] = free_port();
  if (routing == "admin-routing") caps["Admin Routing"] = true;
  if (routing == "outbound-only") caps["Outbound Only"] = true;
  thespian::ActorSystem sys(base, caps);
  constexpr int creating_threads = 4;
  const double sequential_s = create_from_outside(sys, actors, 1);
  wait_for_actor_count(sys, 0);
  const double concurrent_s = create_from_outside(sys, actors, creating_threads);
  wait_for_actor_count(sys, 0);
  auto spawner = sys.create_actor<Spawner>();
  auto spawned = sys.ask(spawner, SpawnMany{actors}, std::chrono::seconds(120));
  if (!spawned || !spawned->is<Done>()) {
    std::fprintf(stderr, "creation by an actor did not finish\n");
    return 1;
  }
  const double in_actor_s = spawned->as<Done>().nanoseconds / 1e9;
  sys.tell(spawner, thespian::ActorExitRequest{});
  wait_for_actor_count(sys, 0);

  auto a = sys.create_actor<Player>();
  auto b = sys.create_actor<Player>();
  // Ask from outside: median of single round trips.
  std::vector<double> asks;
  for (int i = 0; i < rounds; ++i) {
    const auto t = clock_type::now();
    if (!sys.ask(a, std::string("x"), std::chrono::seconds(10))) {
      std::fprintf(stderr, "ask timed out\n");
      return 1;
    }
    asks.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
  }
  // Actor to actor: `rounds` round trips between two actor processes.
  auto done = sys.ask(a, PingPong{b, rounds}, std::chrono::seconds(60));
  if (!done || !done->is<Done>()) {
    std::fprintf(stderr, "ping-pong did not finish\n");
    return 1;
  }
  const double pingpong_us = done->as<Done>().nanoseconds / 1000.0 / rounds;
  const double ask_us = median(asks);
  sys.shutdown();

  std::printf("%s%s%s (%d round trips, %d actors)\n", base.c_str(), routing.empty() ? "" : " + ",
              routing.c_str(), rounds, actors);
  std::printf("  raw %s round trip (64 B, two processes):  %8.1f us\n",
              kind == raw_kind::tcp ? "TCP " : kind == raw_kind::udp ? "UDP " : "UNIX", raw_us);
  std::printf("  actor-to-actor ping-pong round trip:              %8.1f us  (%.2fx raw)\n",
              pingpong_us, pingpong_us / raw_us);
  std::printf("  ask from outside, median:                         %8.1f us  (%.2fx raw)\n",
              ask_us, ask_us / raw_us);
  std::printf("  raw fork + answer + exit + reap, one by one:      %8.0f processes/s\n",
              raw_forks);
  std::printf("  actor processes created from outside, one by one: %8.0f actors/s\n",
              actors / sequential_s);
  std::printf("  ... from outside, %d threads at once:              %8.0f actors/s\n",
              creating_threads, actors / concurrent_s);
  std::printf("  ... by an actor in a loop (returns at once):       %8.0f actors/s\n",
              actors / in_actor_s);
  return 0;
}
