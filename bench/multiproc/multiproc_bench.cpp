// A multi-process base against the floor of the same run: actor-process creation rate, ask
// round trip from outside, and actor-to-actor ping-pong across processes, next to a raw round
// trip of the same 64 bytes between two processes over the base's own kind of socket (blocking
// write/read): a UNIX socket pair for multiprocQueueBase, a loopback TCP connection with
// TCP_NODELAY for multiprocTCPBase.
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

// Raw floor: 64 bytes there and back between two processes, in µs.
double raw_round_trip_us(int rounds, bool tcp) {
  int sv[2];
  if (tcp) {
    tcp_pair(sv);
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

}  // namespace

THESPIAN_MESSAGE(PingPong);
THESPIAN_MESSAGE(Ball);
THESPIAN_MESSAGE(Done);

// A loopback port that was free a moment ago (the TCP base's Admin Port).
std::int64_t free_port() {
  int sv[2];
  tcp_pair(sv);
  sockaddr_in address{};
  socklen_t length = sizeof address;
  ::getsockname(sv[1], reinterpret_cast<sockaddr*>(&address), &length);
  ::close(sv[0]);
  ::close(sv[1]);
  return ntohs(address.sin_port);
}

int main(int argc, char** argv) {
  thespian::serve_actor_process(argc, argv);
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int actors = argc > 2 ? std::atoi(argv[2]) : 200;
  const std::string base = argc > 3 ? argv[3] : "multiprocQueueBase";
  const bool tcp = base == "multiprocTCPBase";
  const std::string routing = argc > 4 ? argv[4] : "";
  // The raw floor first, while this program is single-threaded (it forks).
  const double raw_us = raw_round_trip_us(rounds, tcp);

  thespian::Capabilities caps;
  if (tcp) caps["Admin Port"] = free_port();
  if (routing == "admin-routing") caps["Admin Routing"] = true;
  if (routing == "outbound-only") caps["Outbound Only"] = true;
  thespian::ActorSystem sys(base, caps);
  // Creation rate: actors created from outside one after another, each answering once.
  std::vector<ActorAddress> made;
  const auto create_start = clock_type::now();
  for (int i = 0; i < actors; ++i) made.push_back(sys.create_actor<Player>());
  const double create_s =
      std::chrono::duration<double>(clock_type::now() - create_start).count();
  for (const auto& a : made) sys.tell(a, thespian::ActorExitRequest{});

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
  std::printf("  raw %s round trip (64 B, two processes):  %8.1f us\n", tcp ? "TCP " : "UNIX",
              raw_us);
  std::printf("  actor-to-actor ping-pong round trip:              %8.1f us  (%.2fx raw)\n",
              pingpong_us, pingpong_us / raw_us);
  std::printf("  ask from outside, median:                         %8.1f us  (%.2fx raw)\n",
              ask_us, ask_us / raw_us);
  std::printf("  actor processes created from outside:             %8.0f actors/s\n",
              actors / create_s);
  return 0;
}
