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
// Each creation row also gives the CPU per actor of each process involved over the actors' whole
// life (start, one message, exit, reap), from /proc; the raw fork row gives its own CPU.
// The raw and ping-pong rows are means over consecutive round trips (one preemption on a busy
// machine weighs on all of them); a further line gives the medians of the single round trips,
// and the ask median against the raw median.
// round_trips 0 skips the round-trip rows (creation only).
// Usage: multiproc_bench [round_trips=2000] [actors=200] [base=multiprocQueueBase] [routing]
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <thespian/thespian.hpp>

#include "remote_floors.hpp"

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
  std::int64_t median_nanoseconds = 0;  // of the single round trips (ping-pong only)
  template <class A> void serialize(A& ar) { ar(nanoseconds, median_nanoseconds); }
};

// Answers every Ball; with a PingPong, serves `rounds` balls to the partner and reports the time.
class Player : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* start = m.get<PingPong>()) {
      report_to_ = from;
      started_ = last_ = clock_type::now();
      round_trips_.clear();
      round_trips_.reserve(static_cast<std::size_t>(start->rounds));
      send(start->partner, Ball{start->rounds});
    } else if (const auto* ball = m.get<Ball>()) {
      if (report_to_) {
        const auto now = clock_type::now();
        round_trips_.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count());
        last_ = now;
      }
      if (report_to_ && ball->left <= 1) {
        std::sort(round_trips_.begin(), round_trips_.end());
        send(report_to_, Done{std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  clock_type::now() - started_).count(),
                              round_trips_[round_trips_.size() / 2]});
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
  clock_type::time_point started_, last_;
  std::vector<std::int64_t> round_trips_;
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
  std::size_t count = 0;
  while ((count = sys.status().actor_count) > left && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Said, not hidden in a slow run: an actor whose end the admin missed stalled phases so.
  if (count > left) {
    std::fprintf(stderr, "the admin still counts %zu actors after 60 s (expected %zu)\n", count,
                 left);
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

double process_cpu_seconds(int who) {
  rusage r{};
  ::getrusage(who, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

// CPU seconds spent so far, per role, in this program's process tree (from /proc; clock
// ticks, so read over a whole phase): this program itself, the admin, the forkserver that
// forks the actor processes (the admin's child), and the actor processes that forkserver has
// reaped (its cutime + cstime). Less noisy than a rate on a shared machine.
struct tree_cpu {
  double program = 0, admin = 0, forkserver = 0, actors = 0;
  double actor_faults = 0;  // page faults of the reaped actor processes
};

struct proc_stat {
  pid_t ppid = 0;
  double own = 0, reaped = 0;  // seconds
  double reaped_faults = 0;
};

bool read_proc_stat(pid_t pid, proc_stat& out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  std::vector<std::string> f;
  while (fields >> field) f.push_back(field);
  // After "(comm)": state(0) ppid(1) ... cminflt(8) ... utime(11) stime(12) cutime(13) cstime(14).
  if (f.size() < 15) return false;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  out.ppid = static_cast<pid_t>(std::stol(f[1]));
  out.own = (std::stod(f[11]) + std::stod(f[12])) / tick;
  out.reaped = (std::stod(f[13]) + std::stod(f[14])) / tick;
  out.reaped_faults = std::stod(f[8]);
  return true;
}

// The admin is the grandchild of this program (through this program's forkserver) that has a
// forkserver child of its own; the queue admin and the daemon admin both sit there.
tree_cpu measure_tree_cpu() {
  std::map<pid_t, proc_stat> all;
  if (DIR* dir = ::opendir("/proc")) {
    while (const dirent* entry = ::readdir(dir)) {
      const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
      proc_stat s;
      if (pid > 0 && read_proc_stat(pid, s)) all.emplace(pid, s);
    }
    ::closedir(dir);
  }
  auto children_of = [&all](pid_t parent) {
    std::vector<pid_t> out;
    for (const auto& [pid, s] : all) {
      if (s.ppid == parent) out.push_back(pid);
    }
    return out;
  };
  tree_cpu cpu;
  cpu.program = process_cpu_seconds(RUSAGE_SELF);
  for (pid_t server : children_of(::getpid())) {
    for (pid_t admin : children_of(server)) {
      const auto below = children_of(admin);
      if (below.empty()) continue;
      cpu.admin += all[admin].own;
      for (pid_t forks : below) {
        cpu.forkserver += all[forks].own;
        cpu.actors += all[forks].reaped;
        cpu.actor_faults += all[forks].reaped_faults;
      }
    }
  }
  return cpu;
}

// Milliseconds of CPU per actor created between two snapshots, per role.
std::string cpu_per_actor(const tree_cpu& before, const tree_cpu& after, int actors) {
  char line[240];
  const auto ms = [actors](double a, double b) { return (b - a) * 1000.0 / actors; };
  const double total = ms(before.program + before.admin + before.forkserver + before.actors,
                          after.program + after.admin + after.forkserver + after.actors);
  std::snprintf(line, sizeof line,
                "CPU/actor %5.2f ms (program %.2f, admin %.2f, forkserver %.2f, actor process %.2f, "
                "%.0f page faults)",
                total, ms(before.program, after.program), ms(before.admin, after.admin),
                ms(before.forkserver, after.forkserver), ms(before.actors, after.actors),
                (after.actor_faults - before.actor_faults) / actors);
  return line;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Raw floor: 64 bytes there and back between two processes (remote_floors.hpp), in µs: the
// mean, and in `median_us` the median of the single round trips.
double raw_round_trip_us(int rounds, bench::remote_floors::wire kind, double& median_us) {
  const bench::samples each = bench::remote_floors::round_trips(kind, rounds);
  double total_ns = 0;
  for (const double ns : each) total_ns += ns;
  median_us = median(each) / 1000.0;
  return total_ns / 1000.0 / rounds;
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

constexpr int creating_threads = 4;

struct measurements {
  double sequential_s = 0, concurrent_s = 0, in_actor_s = 0, pingpong_us = 0, ask_us = 0;
  double pingpong_median_us = 0;
  tree_cpu cpu0, cpu1, cpu2, cpu3;
};

// The rows that need the system; non-zero when one failed (main shuts the system down anyway:
// a multiprocTCPBase admin would otherwise stay, a daemon, after the program).
int measure(thespian::ActorSystem& sys, int rounds, int actors, measurements& m) {
  // Each phase's CPU runs until its actors are gone and reaped: a process's whole life.
  m.cpu0 = measure_tree_cpu();
  m.sequential_s = create_from_outside(sys, actors, 1);
  wait_for_actor_count(sys, 0);
  m.cpu1 = measure_tree_cpu();
  m.concurrent_s = create_from_outside(sys, actors, creating_threads);
  wait_for_actor_count(sys, 0);
  m.cpu2 = measure_tree_cpu();
  auto spawner = sys.create_actor<Spawner>();
  auto spawned = sys.ask(spawner, SpawnMany{actors}, std::chrono::seconds(120));
  if (!spawned || !spawned->is<Done>()) {
    std::fprintf(stderr, "creation by an actor did not finish\n");
    return 1;
  }
  m.in_actor_s = spawned->as<Done>().nanoseconds / 1e9;
  sys.tell(spawner, thespian::ActorExitRequest{});
  wait_for_actor_count(sys, 0);
  m.cpu3 = measure_tree_cpu();

  if (rounds > 0) {
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
    m.pingpong_us = done->as<Done>().nanoseconds / 1000.0 / rounds;
    m.pingpong_median_us = done->as<Done>().median_nanoseconds / 1000.0;
    m.ask_us = median(asks);
  }
  return 0;
}

int main(int argc, char** argv) {
  thespian::serve_actor_process(argc, argv);
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int actors = argc > 2 ? std::atoi(argv[2]) : 200;
  const std::string base = argc > 3 ? argv[3] : "multiprocQueueBase";
  using bench::remote_floors::wire;
  const wire kind = bench::remote_floors::wire_of(base);
  const std::string routing = argc > 4 ? argv[4] : "";
  if (rounds < 0 || actors < 1) {
    // Each creation phase waits for its actors' answers: with none it would wait in vain.
    std::fprintf(stderr, "multiproc_bench: round_trips must be >= 0 and actors >= 1 (got %d and %d)\n",
                 rounds, actors);
    return 2;
  }
  // The raw floor first, while this program is single-threaded (it forks).
  double raw_median_us = 0;
  const double raw_us = rounds > 0 ? raw_round_trip_us(rounds, kind, raw_median_us) : 0;
  const double raw_cpu_before =
      process_cpu_seconds(RUSAGE_SELF) + process_cpu_seconds(RUSAGE_CHILDREN);
  const double raw_forks = raw_fork_rate(actors);
  const double raw_cpu_ms = (process_cpu_seconds(RUSAGE_SELF) +
                             process_cpu_seconds(RUSAGE_CHILDREN) - raw_cpu_before) *
                            1000.0 / actors;

  thespian::Capabilities caps;
  if (kind != wire::unix_stream) caps["Admin Port"] = bench::remote_floors::free_port();
  if (routing == "admin-routing") caps["Admin Routing"] = true;
  if (routing == "outbound-only") caps["Outbound Only"] = true;
  thespian::ActorSystem sys(base, caps);
  measurements m{};
  int failed = 1;
  try {
    failed = measure(sys, rounds, actors, m);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "the bench failed: %s\n", e.what());
  }
  sys.shutdown();
  if (failed != 0) return failed;
  const double pingpong_us = m.pingpong_us, ask_us = m.ask_us;
  const double sequential_s = m.sequential_s, concurrent_s = m.concurrent_s,
               in_actor_s = m.in_actor_s;
  const tree_cpu &cpu0 = m.cpu0, &cpu1 = m.cpu1, &cpu2 = m.cpu2, &cpu3 = m.cpu3;

  std::printf("%s%s%s (%d round trips, %d actors)\n", base.c_str(), routing.empty() ? "" : " + ",
              routing.c_str(), rounds, actors);
  if (rounds > 0) {
    std::printf("  raw %s round trip (64 B, two processes):  %8.1f us\n",
                kind == wire::tcp ? "TCP " : kind == wire::udp ? "UDP " : "UNIX", raw_us);
    std::printf("  actor-to-actor ping-pong round trip:              %8.1f us  (%.2fx raw)\n",
                pingpong_us, pingpong_us / raw_us);
    std::printf("  medians: raw %.1f us, ping-pong %.1f us (%.2fx raw), ask (%.2fx raw)\n",
                raw_median_us, m.pingpong_median_us, m.pingpong_median_us / raw_median_us,
                ask_us / raw_median_us);
    std::printf("  ask from outside, median:                         %8.1f us  (%.2fx raw)\n",
                ask_us, ask_us / raw_us);
  }
  std::printf("  raw fork + answer + exit + reap, one by one:      %8.0f processes/s   "
              "CPU/process %5.2f ms\n",
              raw_forks, raw_cpu_ms);
  std::printf("  actor processes created from outside, one by one: %8.0f actors/s   %s\n",
              actors / sequential_s, cpu_per_actor(cpu0, cpu1, actors).c_str());
  std::printf("  ... from outside, %d threads at once:              %8.0f actors/s   %s\n",
              creating_threads, actors / concurrent_s, cpu_per_actor(cpu1, cpu2, actors).c_str());
  std::printf("  ... by an actor in a loop (returns at once):       %8.0f actors/s   %s\n",
              actors / in_actor_s, cpu_per_actor(cpu2, cpu3, actors).c_str());
  return 0;
}
