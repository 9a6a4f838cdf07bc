// CAF 0.17 (Debian's libcaf-dev) running the same workloads as ours_workloads.cpp, with the same
// message counts and the same number of scheduler threads, so each row has a peer measured in
// the same run. Built only when the meson feature `caf` finds the library.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "workloads.hpp"

namespace bench::caf_side {
namespace {

using bench_clock = std::chrono::steady_clock;

using go_atom = caf::atom_constant<caf::atom("go")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using link_atom = caf::atom_constant<caf::atom("link")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using add_atom = caf::atom_constant<caf::atom("add")>;
using meet_atom = caf::atom_constant<caf::atom("meet")>;
using change_atom = caf::atom_constant<caf::atom("change")>;

const auto finish_timeout = std::chrono::seconds(120);

double ns_since(bench_clock::time_point start) {
  return std::chrono::duration<double, std::nano>(bench_clock::now() - start).count();
}

// One CAF system per measurement, on as many scheduler threads as multithreadBase gets.
struct bench_config : caf::actor_system_config {
  bench_config() { set("scheduler.max-threads", bench_threads); }
};

void await_done(caf::scoped_actor& self, std::int64_t count, const char* workload) {
  for (std::int64_t i = 0; i < count; ++i) {
    bool late = false;
    self->receive([](done_atom) {}, caf::after(finish_timeout) >> [&late] { late = true; });
    if (late) throw std::runtime_error(std::string("CAF ") + workload + " did not finish");
  }
}

void stop_all(caf::scoped_actor& self, const std::vector<caf::actor>& actors) {
  for (const auto& a : actors) self->send_exit(a, caf::exit_reason::user_shutdown);
}

caf::actor sender_of(caf::event_based_actor* self) {
  return caf::actor_cast<caf::actor>(self->current_sender());
}

// ---- ping-pong ----------------------------------------------------------------------------
caf::behavior player(caf::event_based_actor* self, caf::actor starter) {
  return {
      [=](std::int64_t n) {
        if (n == 0) {
          self->send(starter, done_atom::value);
        } else {
          self->send(sender_of(self), n - 1);
        }
      },
      [=](go_atom, caf::actor partner, std::int64_t hops, std::int64_t balls) {
        for (std::int64_t i = 0; i < balls; ++i) self->send(partner, hops - 1);
      },
  };
}

// ---- fan-in --------------------------------------------------------------------------------
struct counter_state {
  counter_state() = default;
  std::int64_t count = 0;
};

caf::behavior sink(caf::stateful_actor<counter_state>* self, caf::actor starter,
                   std::int64_t expected) {
  return {
      [=](std::int64_t) {
        if (++self->state.count == expected) self->send(starter, done_atom::value);
      },
  };
}

// Actors without spawn arguments are classes: CAF 0.17.6 spawning a function with no arguments
// dereferences a null shared_ptr<std::tuple<>> (UBSan reports it inside CAF's init_fun_factory).
class sender : public caf::event_based_actor {
 public:
  using caf::event_based_actor::event_based_actor;
  caf::behavior make_behavior() override {
    return {
        [this](go_atom, caf::actor target, std::int64_t count) {
          for (std::int64_t i = 0; i < count; ++i) send(target, i);
        },
    };
  }
};

// ---- thread ring ---------------------------------------------------------------------------
// CAF 0.17 constructs a state from the actor pointer when it can: an aggregate whose first
// member is a caf::actor would start out pointing at the actor itself. A declared default
// constructor makes each state a non-aggregate.
struct ring_state {
  ring_state() = default;
  caf::actor next;
};

caf::behavior ring_member(caf::stateful_actor<ring_state>* self, caf::actor starter) {
  return {
      [=](link_atom, caf::actor next) { self->state.next = std::move(next); },
      [=](std::int64_t n) {
        if (n == 0) {
          self->send(starter, done_atom::value);
        } else {
          self->send(self->state.next, n - 1);
        }
      },
  };
}

// ---- spawn ---------------------------------------------------------------------------------
class child : public caf::event_based_actor {
 public:
  using caf::event_based_actor::event_based_actor;
  caf::behavior make_behavior() override {
    return {[](hello_atom) { return hello_atom::value; }};
  }
};

struct spawner_state {
  spawner_state() = default;
  std::vector<caf::actor> children;  // kept alive while idle, as our actors stay alive
  std::int64_t answered = 0;
};

caf::behavior spawner(caf::stateful_actor<spawner_state>* self, caf::actor starter) {
  return {
      [=](go_atom, std::int64_t count) {
        self->state.children.reserve(static_cast<std::size_t>(count));
        for (std::int64_t i = 0; i < count; ++i) {
          self->state.children.push_back(self->spawn<child>());
          self->send(self->state.children.back(), hello_atom::value);
        }
      },
      [=](hello_atom) {
        if (++self->state.answered == static_cast<std::int64_t>(self->state.children.size())) {
          self->send(starter, done_atom::value);
        }
      },
      [=](stop_atom) {
        for (const auto& c : self->state.children) {
          self->send_exit(c, caf::exit_reason::user_shutdown);
        }
        self->state.children.clear();
        self->quit();
      },
  };
}

struct spawn_result {
  double ns_per_actor;
  double bytes_per_actor;
};

spawn_result run_spawn(std::int64_t actors, bool measure_rss) {  // as ours_workloads.cpp
  bench_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto parent = sys.spawn(spawner, caf::actor{self});
  const std::int64_t rss_before = measure_rss ? resident_bytes_after_trim() : 0;
  const auto start = bench_clock::now();
  self->send(parent, go_atom::value, actors);
  await_done(self, 1, "spawn");
  const double ns = ns_since(start);
  const std::int64_t rss_after = measure_rss ? resident_bytes_after_trim() : 0;
  self->send(parent, stop_atom::value);
  return {ns / static_cast<double>(actors),
          static_cast<double>(rss_after - rss_before) / static_cast<double>(actors)};
}

// ---- fork-join -----------------------------------------------------------------------------
class worker : public caf::event_based_actor {
 public:
  using caf::event_based_actor::event_based_actor;
  caf::behavior make_behavior() override {
    return {[](std::int64_t v) -> std::int64_t {
      return lcg_step(v);
    }};
  }
};

struct coordinator_state {
  coordinator_state() = default;
  std::vector<caf::actor> workers;
  std::int64_t rounds_left = 0, pending = 0;
};

caf::behavior coordinator(caf::stateful_actor<coordinator_state>* self, caf::actor starter) {
  auto fork = [self] {
    auto& st = self->state;
    st.pending = static_cast<std::int64_t>(st.workers.size());
    for (std::size_t i = 0; i < st.workers.size(); ++i) {
      self->send(st.workers[i], static_cast<std::int64_t>(i));
    }
  };
  return {
      [=](add_atom, caf::actor w) { self->state.workers.push_back(std::move(w)); },
      [=](go_atom, std::int64_t rounds) {
        self->state.rounds_left = rounds;
        fork();
      },
      [=](std::int64_t) {
        if (--self->state.pending == 0) {
          if (--self->state.rounds_left == 0) {
            self->send(starter, done_atom::value);
          } else {
            fork();
          }
        }
      },
  };
}

// ---- chameneos -----------------------------------------------------------------------------
std::int64_t complement(std::int64_t a, std::int64_t b) {  // 0 blue, 1 red, 2 yellow
  if (a == b) return a;
  return 3 - a - b;
}

struct mall_state {
  mall_state() = default;
  caf::actor waiting;
  std::int64_t waiting_colour = 0, meetings_left = 0, stopped = 0;
};

caf::behavior mall(caf::stateful_actor<mall_state>* self, caf::actor starter,
                   std::int64_t meetings, std::int64_t creatures) {
  self->state.meetings_left = meetings;
  return {
      [=](meet_atom, std::int64_t colour) {
        auto& st = self->state;
        auto from = sender_of(self);
        if (st.meetings_left == 0) {
          self->send(from, stop_atom::value);
          if (++st.stopped == creatures) self->send(starter, done_atom::value);
        } else if (!st.waiting) {
          st.waiting = std::move(from);
          st.waiting_colour = colour;
        } else {
          self->send(st.waiting, meet_atom::value, from, colour);
          st.waiting = caf::actor{};
          --st.meetings_left;
        }
      },
  };
}

struct chameneo_state {
  chameneo_state() = default;
  caf::actor mall;
  std::int64_t colour = 0;
};

caf::behavior chameneo(caf::stateful_actor<chameneo_state>* self, std::int64_t colour) {
  self->state.colour = colour;
  return {
      [=](go_atom, caf::actor m) {
        self->state.mall = std::move(m);
        self->send(self->state.mall, meet_atom::value, self->state.colour);
      },
      [=](meet_atom, caf::actor other, std::int64_t c) {
        auto& st = self->state;
        st.colour = complement(st.colour, c);
        self->send(other, change_atom::value, st.colour);
        self->send(st.mall, meet_atom::value, st.colour);
      },
      [=](change_atom, std::int64_t c) {
        auto& st = self->state;
        st.colour = complement(st.colour, c);
        self->send(st.mall, meet_atom::value, st.colour);
      },
      [=](stop_atom) {},
  };
}

class echo_int : public caf::event_based_actor {
 public:
  using caf::event_based_actor::event_based_actor;
  caf::behavior make_behavior() override {
    return {[](std::int64_t v) { return v; }};
  }
};

class echo_string : public caf::event_based_actor {
 public:
  using caf::event_based_actor::event_based_actor;
  caf::behavior make_behavior() override {
    // Moves the payload back: the bytes are not copied, as our echo forwards its Message.
    return {[](std::string& s) { return std::move(s); }};
  }
};

}  // namespace

samples pingpong(std::int64_t messages, int in_flight) {
  bench_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto ping = sys.spawn(player, caf::actor{self});
  auto pong = sys.spawn(player, caf::actor{self});
  const std::int64_t hops = messages / in_flight;
  const auto start = bench_clock::now();
  self->send(ping, go_atom::value, pong, hops, std::int64_t{in_flight});
  await_done(self, in_flight, "ping-pong");
  const double ns = ns_since(start);
  stop_all(self, {ping, pong});
  return {ns / static_cast<double>(hops * in_flight)};
}

samples fan_in(std::int64_t per_sender, int senders) {
  bench_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto target = sys.spawn(sink, caf::actor{self}, per_sender * senders);
  std::vector<caf::actor> group;
  for (int i = 0; i < senders; ++i) group.push_back(sys.spawn<sender>());
  const auto start = bench_clock::now();
  for (const auto& s : group) self->send(s, go_atom::value, target, per_sender);
  await_done(self, 1, "fan-in");
  const double ns = ns_since(start);
  group.push_back(target);
  stop_all(self, group);
  return {ns / static_cast<double>(per_sender * senders)};
}

samples thread_ring(int actors, std::int64_t hops) {
  bench_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::vector<caf::actor> ring;
  for (int i = 0; i < actors; ++i) ring.push_back(sys.spawn(ring_member, caf::actor{self}));
  for (int i = 0; i < actors; ++i) self->send(ring[i], link_atom::value, ring[(i + 1) % actors]);
  const auto start = bench_clock::now();
  self->send(ring[0], hops);
  await_done(self, 1, "thread ring");
  const double ns = ns_since(start);
  stop_all(self, ring);
  return {ns / static_cast<double>(hops)};
}

samples spawn(std::int64_t actors) { return {run_spawn(actors, false).ns_per_actor}; }

samples idle_actor_bytes(std::int64_t actors) { return {run_spawn(actors, true).bytes_per_actor}; }

samples fork_join(int workers, std::int64_t rounds) {
  bench_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto coord = sys.spawn(coordinator, caf::actor{self});
  std::vector<caf::actor> pool;
  for (int i = 0; i < workers; ++i) {
    pool.push_back(sys.spawn<worker>());
    self->send(coord, add_atom::value, pool.back());
  }
  const auto start = bench_clock::now();
  self->send(coord, go_atom::value, rounds);
  await_done(self, 1, "fork-join");
  const double ns = ns_since(start);
  pool.push_back(coord);
  stop_all(self, pool);
  return {ns / static_cast<double>(rounds * workers)};
}

samples chameneos(int creatures, std::int64_t meetings) {
  bench_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto broker = sys.spawn(mall, caf::actor{self}, meetings, std::int64_t{creatures});
  std::vector<caf::actor> group;
  for (int i = 0; i < creatures; ++i) group.push_back(sys.spawn(chameneo, std::int64_t{i % 3}));
  const auto start = bench_clock::now();
  for (const auto& c : group) self->send(c, go_atom::value, broker);
  await_done(self, 1, "chameneos");
  const double ns = ns_since(start);
  group.push_back(broker);
  stop_all(self, group);
  return {ns / static_cast<double>(meetings)};
}

samples ask_blocking(std::int64_t asks) {
  bench_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto target = sys.spawn<echo_int>();
  samples out;
  out.reserve(static_cast<std::size_t>(asks));
  for (std::int64_t i = 0; i < asks; ++i) {
    const auto start = bench_clock::now();
    bool failed = false;
    self->request(target, finish_timeout, i)
        .receive([](std::int64_t) {}, [&failed](caf::error&) { failed = true; });
    out.push_back(ns_since(start));
    if (failed) throw std::runtime_error("CAF request got no reply");
  }
  stop_all(self, {target});
  return out;
}

samples big_message(std::int64_t bytes, std::int64_t round_trips) {
  bench_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto target = sys.spawn<echo_string>();
  const std::string original(static_cast<std::size_t>(bytes), 'x');
  samples out;
  for (std::int64_t i = 0; i < round_trips; ++i) {
    const auto start = bench_clock::now();
    std::string payload = original;  // a fresh payload each time, as on our side
    std::size_t got = 0;
    bool failed = false;
    self->request(target, finish_timeout, std::move(payload))
        .receive([&got](std::string& s) { got = s.size(); }, [&failed](caf::error&) { failed = true; });
    out.push_back(ns_since(start));
    if (failed || got != original.size()) throw std::runtime_error("CAF big message lost");
  }
  stop_all(self, {target});
  return out;
}

}  // namespace bench::caf_side

namespace bench {

std::string caf_version() {
  return std::to_string(CAF_VERSION / 10000) + "." + std::to_string(CAF_VERSION / 100 % 100) +
         "." + std::to_string(CAF_VERSION % 100);
}

}  // namespace bench
