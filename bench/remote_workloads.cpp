// Our remote rows: the same traffic as remote_floors.cpp, between actors in different processes
// of a multi-process base (multiprocQueueBase over UNIX stream sockets, multiprocTCPBase over
// TCP, multiprocUDPBase over UDP), through the public API only. Each call starts a system of
// that base (a daemon admin on a free loopback port for TCP and UDP), measures, and shuts it
// down. The actor processes are this program re-executed (thespian::serve_actor_process, first
// thing in main of `thespian`).
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <thespian/thespian.hpp>

#include "remote_floors.hpp"
#include "workloads.hpp"

namespace bench::remote_wire {

using thespian::ActorAddress;

// To the first peer: bounce a Ball with `partner` `rounds` times, then answer RallyDone.
struct Rally {
  ActorAddress partner;
  std::int64_t rounds = 0;
  template <class A> void serialize(A& ar) { ar(partner, rounds); }
};
struct Ball {
  std::int64_t left = 0;
  template <class A> void serialize(A& ar) { ar(left); }
};
struct RallyDone {
  std::vector<std::int64_t> round_trip_ns;
  template <class A> void serialize(A& ar) { ar(round_trip_ns); }
};
// To the first peer: send `messages` Bytes to `target` back to back, then Count, and answer
// FloodDone once the target has counted them all.
struct Flood {
  ActorAddress target;
  std::int64_t messages = 0;
  template <class A> void serialize(A& ar) { ar(target, messages); }
};
struct Bytes {
  std::string payload;
  template <class A> void serialize(A& ar) { ar(payload); }
};
struct Count {
  std::int64_t received = 0;
  template <class A> void serialize(A& ar) { ar(received); }
};
struct FloodDone {
  std::int64_t nanoseconds = 0;
  std::int64_t received = 0;
  template <class A> void serialize(A& ar) { ar(nanoseconds, received); }
};

}  // namespace bench::remote_wire

THESPIAN_MESSAGE(bench::remote_wire::Rally);
THESPIAN_MESSAGE(bench::remote_wire::Ball);
THESPIAN_MESSAGE(bench::remote_wire::RallyDone);
THESPIAN_MESSAGE(bench::remote_wire::Flood);
THESPIAN_MESSAGE(bench::remote_wire::Bytes);
THESPIAN_MESSAGE(bench::remote_wire::Count);
THESPIAN_MESSAGE(bench::remote_wire::FloodDone);

namespace bench::remote {
namespace {

using namespace bench::remote_wire;
using bench_clock = std::chrono::steady_clock;
using thespian::Message;

constexpr auto patience = std::chrono::seconds(120);

std::int64_t ns_between(bench_clock::time_point a, bench_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

// Every part of the remote rows: echoes strings (asks), leads or answers a rally (ping-pong),
// floods or counts (pipelined).
class Peer : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* rally = m.get<Rally>()) {
      report_to_ = from;
      left_ = rally->rounds;
      times_.clear();
      times_.reserve(static_cast<std::size_t>(rally->rounds));
      last_ = bench_clock::now();
      send(rally->partner, Ball{left_});
    } else if (const auto* ball = m.get<Ball>()) {
      if (!report_to_) {
        send(from, *ball);  // the other side of a rally
        co_return;
      }
      const auto now = bench_clock::now();
      times_.push_back(ns_between(last_, now));
      last_ = now;
      if (--left_ > 0) {
        send(from, Ball{left_});
      } else {
        send(report_to_, RallyDone{std::move(times_)});
        report_to_ = ActorAddress{};
      }
    } else if (const auto* flood = m.get<Flood>()) {
      report_to_ = from;
      started_ = bench_clock::now();
      const std::string payload(64, 'x');
      for (std::int64_t i = 0; i < flood->messages; ++i) send(flood->target, Bytes{payload});
      send(flood->target, Count{});
    } else if (m.is<Bytes>()) {
      ++received_;
    } else if (m.is<Count>() && !report_to_) {
      send(from, Count{received_});
      received_ = 0;
    } else if (const auto* counted = m.get<Count>()) {
      send(report_to_, FloodDone{ns_between(started_, bench_clock::now()), counted->received});
      report_to_ = ActorAddress{};
    } else if (m.is<std::string>()) {
      send(from, m);
    }
    co_return;
  }

 private:
  ActorAddress report_to_;
  std::int64_t left_ = 0;
  std::int64_t received_ = 0;
  std::vector<std::int64_t> times_;
  bench_clock::time_point last_, started_;
};

// A system of `base` gets its admin, a daemon, a free loopback port where the base needs one.
thespian::Capabilities caps_for(const std::string& base) {
  thespian::Capabilities caps;
  if (remote_floors::wire_of(base) != remote_floors::wire::unix_stream) {
    caps["Admin Port"] = remote_floors::free_port();
  }
  return caps;
}

template <class Reply>
Reply ask_for(thespian::ActorSystem& sys, const ActorAddress& to, Message question,
              const char* what) {
  auto reply = sys.ask(to, std::move(question), patience);
  if (!reply || !reply->is<Reply>()) throw std::runtime_error(std::string(what) + " did not finish");
  return reply->as<Reply>();
}

// Runs `measure(sys)` on a fresh system and shuts it down however it ends (a TCP or UDP base's
// admin is a daemon that would otherwise outlive the run).
template <class Measure>
samples on_fresh_system(const std::string& base, Measure measure) {
  thespian::ActorSystem sys(base, caps_for(base));
  try {
    samples result = measure(sys);
    sys.shutdown();
    return result;
  } catch (...) {
    sys.shutdown();
    throw;
  }
}

}  // namespace

samples pingpong(const std::string& base, std::int64_t round_trips) {
  return on_fresh_system(base, [round_trips](thespian::ActorSystem& sys) {
    auto a = sys.create_actor<Peer>();
    auto b = sys.create_actor<Peer>();
    const auto done = ask_for<RallyDone>(sys, a, Rally{b, round_trips}, "remote ping-pong");
    return samples(done.round_trip_ns.begin(), done.round_trip_ns.end());
  });
}

samples ask(const std::string& base, std::int64_t asks) {
  return on_fresh_system(base, [asks](thespian::ActorSystem& sys) {
    auto echo = sys.create_actor<Peer>();
    ask_for<std::string>(sys, echo, std::string("warm"), "remote ask");  // the process is up
    samples each;
    each.reserve(static_cast<std::size_t>(asks));
    for (std::int64_t i = 0; i < asks; ++i) {
      const auto start = bench_clock::now();
      ask_for<std::string>(sys, echo, std::string(64, 'x'), "remote ask");
      each.push_back(static_cast<double>(ns_between(start, bench_clock::now())));
    }
    return each;
  });
}

samples pipelined(const std::string& base, std::int64_t messages) {
  return on_fresh_system(base, [messages](thespian::ActorSystem& sys) {
    auto source = sys.create_actor<Peer>();
    auto sink = sys.create_actor<Peer>();
    ask_for<std::string>(sys, sink, std::string("warm"), "remote pipelined");
    const auto done = ask_for<FloodDone>(sys, source, Flood{sink, messages}, "remote pipelined");
    if (done.received != messages) {
      throw std::runtime_error("remote pipelined: " + std::to_string(done.received) + " of " +
                               std::to_string(messages) + " messages arrived");
    }
    return samples{static_cast<double>(done.nanoseconds) / static_cast<double>(messages)};
  });
}

}  // namespace bench::remote
