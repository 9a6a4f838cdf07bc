// Our side of every in-process workload, written against the public API only
// (<thespian/thespian.hpp>), as a user of the library would write it. The only asio-heavy TU of
// the suite besides floors.cpp; each function builds a fresh ActorSystem on the named base.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <thespian/thespian.hpp>

#include "workloads.hpp"

using namespace std::chrono_literals;

namespace bench::ours {
namespace {

using bench_clock = std::chrono::steady_clock;
using thespian::ActorAddress;
using thespian::Message;

constexpr auto finish_timeout = 120s;

double ns_since(bench_clock::time_point start) {
  return std::chrono::duration<double, std::nano>(bench_clock::now() - start).count();
}

thespian::Capabilities caps_for(const std::string& base) {
  thespian::Capabilities caps;
  if (base == "multithreadBase") caps["Thread Count"] = std::int64_t{bench_threads};
  return caps;
}

// Waits for `count` messages on the context's endpoint; throws naming the workload if one is late.
void await_replies(thespian::ExternalContext& context, std::int64_t count, const char* workload,
                   const std::string& base) {
  for (std::int64_t i = 0; i < count; ++i) {
    if (!context.listen(finish_timeout)) {
      throw std::runtime_error(std::string(workload) + " on " + base + " did not finish within " +
                               std::to_string(finish_timeout.count()) + " s");
    }
  }
}

struct done {};

// The actors below never co_await, so they handle their messages in on_message(), the
// synchronous fast path (see Actor::on_message), as an application's actors of that kind would;
// receive() is never reached. ping-pong-1-coroutine measures the same traffic through a
// coroutine receive() (coroutine_player), the path of actors that do await.
class sync_actor : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message, ActorAddress) override { co_return; }
};

// ---- ping-pong ----------------------------------------------------------------------------
struct serve {
  ActorAddress partner;
  std::int64_t hops_per_ball;
  int balls;
};

class player : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress& from) override {
    if (const auto* n = m.get<std::int64_t>()) {
      if (*n == 0) {
        send(starter_, done{});
      } else {
        send(from, *n - 1);
      }
    } else if (const auto* s = m.get<serve>()) {
      starter_ = from;
      for (int i = 0; i < s->balls; ++i) send(s->partner, s->hops_per_ball - 1);
    } else if (const auto* starter = m.get<ActorAddress>()) {
      starter_ = *starter;
    }
    return true;
  }

 private:
  ActorAddress starter_;
};

// The same player with a coroutine receive().
class coroutine_player : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* n = m.get<std::int64_t>()) {
      if (*n == 0) {
        send(starter_, done{});
      } else {
        send(from, *n - 1);
      }
    } else if (const auto* s = m.get<serve>()) {
      starter_ = from;
      for (int i = 0; i < s->balls; ++i) send(s->partner, s->hops_per_ball - 1);
    } else if (const auto* starter = m.get<ActorAddress>()) {
      starter_ = *starter;
    }
    co_return;
  }

 private:
  ActorAddress starter_;
};

// ---- fan-in --------------------------------------------------------------------------------
struct expect {
  std::int64_t total;
};
struct burst {
  ActorAddress sink;
  std::int64_t count;
};

class sink : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress& from) override {
    if (m.is<std::int64_t>()) {
      if (++received_ == expected_) send(starter_, done{});
    } else if (const auto* e = m.get<expect>()) {
      starter_ = from;
      expected_ = e->total;
      received_ = 0;
    }
    return true;
  }

 private:
  ActorAddress starter_;
  std::int64_t expected_ = -1, received_ = 0;
};

class sender : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress&) override {
    if (const auto* b = m.get<burst>()) {
      for (std::int64_t i = 0; i < b->count; ++i) send(b->sink, i);
    }
    return true;
  }
};

// ---- thread ring ---------------------------------------------------------------------------
struct link {
  ActorAddress next;
  ActorAddress starter;
};

class ring_member : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress&) override {
    if (const auto* n = m.get<std::int64_t>()) {
      if (*n == 0) {
        send(starter_, done{});
      } else {
        send(next_, *n - 1);
      }
    } else if (const auto* l = m.get<link>()) {
      next_ = l->next;
      starter_ = l->starter;
    }
    return true;
  }

 private:
  ActorAddress next_, starter_;
};

// ---- spawn ---------------------------------------------------------------------------------
struct spawn_children {
  std::int64_t count;
};
struct hello {};

class child : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress& from) override {
    if (m.is<hello>()) send(from, hello{});
    return true;
  }
};

class spawner : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress& from) override {
    if (const auto* s = m.get<spawn_children>()) {
      starter_ = from;
      expected_ = s->count;
      answered_ = 0;
      for (std::int64_t i = 0; i < s->count; ++i) send(create_actor<child>(), hello{});
    } else if (m.is<hello>()) {
      if (++answered_ == expected_) send(starter_, done{});
    }
    return true;
  }

 private:
  ActorAddress starter_;
  std::int64_t expected_ = -1, answered_ = 0;
};

struct spawn_result {
  double ns_per_actor;
  double bytes_per_actor;
};

// The resident size once it has stopped moving: the row before this one may be CAF's, whose
// scheduler threads go on freeing memory for a while after its system is gone (readings taken
// during that made the bytes per actor come out negative). Bounded: at most ~1 s.
std::int64_t settled_resident_bytes() {
  std::int64_t last = resident_bytes_after_trim();
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(10ms);
    const std::int64_t now = resident_bytes_after_trim();
    if (std::abs(now - last) < 64 * 1024) return now;
    last = now;
  }
  return last;
}

// RSS is read only when asked: trimming the heap first makes the spawn pay page faults that a
// warm allocator would not.
spawn_result run_spawn(const std::string& base, std::int64_t actors, bool measure_rss) {
  thespian::ActorSystem sys(base, caps_for(base));
  auto parent = sys.create_actor<spawner>();
  auto context = sys.private_context();
  const std::int64_t rss_before = measure_rss ? settled_resident_bytes() : 0;
  const auto start = bench_clock::now();
  context.tell(parent, spawn_children{actors});
  await_replies(context, 1, "spawn", base);
  const double ns = ns_since(start);
  const std::int64_t rss_after = measure_rss ? resident_bytes_after_trim() : 0;
  return {ns / static_cast<double>(actors),
          static_cast<double>(rss_after - rss_before) / static_cast<double>(actors)};
}

// ---- fork-join -----------------------------------------------------------------------------
struct fork_rounds {
  std::int64_t rounds;
};
struct task {
  std::int64_t value;
};

class worker : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress& from) override {
    if (const auto* t = m.get<task>()) {
      // A token of work so the task is not empty: one step of a LCG.
      send(from, task{lcg_step(t->value)});
    }
    return true;
  }
};

class coordinator : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress& from) override {
    if (const auto* workers = m.get<std::vector<ActorAddress>>()) {
      workers_ = *workers;
    } else if (const auto* r = m.get<fork_rounds>()) {
      starter_ = from;
      rounds_left_ = r->rounds;
      fork();
    } else if (m.is<task>()) {
      if (--pending_ == 0) {
        if (--rounds_left_ == 0) {
          send(starter_, done{});
        } else {
          fork();
        }
      }
    }
    return true;
  }

 private:
  void fork() {
    pending_ = static_cast<std::int64_t>(workers_.size());
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      send(workers_[i], task{static_cast<std::int64_t>(i)});
    }
  }
  std::vector<ActorAddress> workers_;
  ActorAddress starter_;
  std::int64_t rounds_left_ = 0, pending_ = 0;
};

// ---- chameneos -----------------------------------------------------------------------------
enum class colour { blue, red, yellow };

colour complement(colour a, colour b) {
  if (a == b) return a;
  if (a != colour::blue && b != colour::blue) return colour::blue;
  if (a != colour::red && b != colour::red) return colour::red;
  return colour::yellow;
}

struct open_mall {
  std::int64_t meetings;
  int creatures;
};
struct enter_mall {
  ActorAddress mall;
};
struct meet_request {
  colour c;
};
struct meet {
  ActorAddress other;
  colour c;
};
struct change {
  colour c;
};
struct stop {};

class mall : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress& from) override {
    if (const auto* r = m.get<meet_request>()) {
      if (meetings_left_ == 0) {
        send(from, stop{});
        if (++stopped_ == creatures_) send(starter_, done{});
      } else if (!waiting_) {
        waiting_ = from;
        waiting_colour_ = r->c;
      } else {
        send(waiting_, meet{from, r->c});
        waiting_ = ActorAddress{};
        --meetings_left_;
      }
    } else if (const auto* o = m.get<open_mall>()) {
      starter_ = from;
      meetings_left_ = o->meetings;
      creatures_ = o->creatures;
      stopped_ = 0;
    }
    return true;
  }

 private:
  ActorAddress starter_, waiting_;
  colour waiting_colour_ = colour::blue;
  std::int64_t meetings_left_ = 0;
  int creatures_ = 0, stopped_ = 0;
};

class chameneo : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress&) override {
    if (const auto* mt = m.get<meet>()) {
      colour_ = complement(colour_, mt->c);
      send(mt->other, change{colour_});
      send(mall_, meet_request{colour_});
    } else if (const auto* ch = m.get<change>()) {
      colour_ = complement(colour_, ch->c);
      send(mall_, meet_request{colour_});
    } else if (const auto* e = m.get<enter_mall>()) {
      mall_ = e->mall;
      send(mall_, meet_request{colour_});
    } else if (const auto* c = m.get<colour>()) {
      colour_ = *c;
    }
    return true;
  }

 private:
  ActorAddress mall_;
  colour colour_ = colour::blue;
};

// ---- ask and big messages ------------------------------------------------------------------
class echo : public sync_actor {
 public:
  bool on_message(const Message& m, const ActorAddress& from) override {
    send(from, m);
    return true;
  }
};

struct coroutine_asks {
  thespian::ActorSystem* sys;
  ActorAddress target;
  std::int64_t asks;
  samples* out;
};

// A named coroutine taking its state by value (g++ 12 miscompiles capturing lambda coroutines).
asio::awaitable<void> ask_loop(coroutine_asks job) {
  for (std::int64_t i = 0; i < job.asks; ++i) {
    const auto start = bench_clock::now();
    Message question{i};
    auto reply = co_await job.sys->async_ask(job.target, std::move(question), finish_timeout,
                                             asio::use_awaitable);
    job.out->push_back(ns_since(start));
    if (!reply) throw std::runtime_error("async_ask got no reply within the timeout");
  }
}

}  // namespace

samples pingpong(const std::string& base, std::int64_t messages, int in_flight,
                 bool coroutine_receive) {
  thespian::ActorSystem sys(base, caps_for(base));
  auto ping = coroutine_receive ? sys.create_actor<coroutine_player>() : sys.create_actor<player>();
  auto pong = coroutine_receive ? sys.create_actor<coroutine_player>() : sys.create_actor<player>();
  auto context = sys.private_context();
  context.tell(pong, context.address());
  const std::int64_t hops = messages / in_flight;
  const auto start = bench_clock::now();
  context.tell(ping, serve{pong, hops, in_flight});
  await_replies(context, in_flight, "ping-pong", base);
  return {ns_since(start) / static_cast<double>(hops * in_flight)};
}

samples fan_in(const std::string& base, std::int64_t per_sender, int senders) {
  thespian::ActorSystem sys(base, caps_for(base));
  auto target = sys.create_actor<sink>();
  std::vector<ActorAddress> group;
  for (int i = 0; i < senders; ++i) group.push_back(sys.create_actor<sender>());
  auto context = sys.private_context();
  context.tell(target, expect{per_sender * senders});
  const auto start = bench_clock::now();
  for (const auto& s : group) context.tell(s, burst{target, per_sender});
  await_replies(context, 1, "fan-in", base);
  return {ns_since(start) / static_cast<double>(per_sender * senders)};
}

samples thread_ring(const std::string& base, int actors, std::int64_t hops) {
  thespian::ActorSystem sys(base, caps_for(base));
  auto context = sys.private_context();
  std::vector<ActorAddress> ring;
  for (int i = 0; i < actors; ++i) ring.push_back(sys.create_actor<ring_member>());
  for (int i = 0; i < actors; ++i) {
    context.tell(ring[i], link{ring[(i + 1) % actors], context.address()});
  }
  const auto start = bench_clock::now();
  context.tell(ring[0], hops);
  await_replies(context, 1, "thread ring", base);
  return {ns_since(start) / static_cast<double>(hops)};
}

samples spawn(const std::string& base, std::int64_t actors) {
  return {run_spawn(base, actors, false).ns_per_actor};
}

samples idle_actor_bytes(const std::string& base, std::int64_t actors) {
  return {run_spawn(base, actors, true).bytes_per_actor};
}

samples fork_join(const std::string& base, int workers, std::int64_t rounds) {
  thespian::ActorSystem sys(base, caps_for(base));
  std::vector<ActorAddress> pool;
  for (int i = 0; i < workers; ++i) pool.push_back(sys.create_actor<worker>());
  auto coord = sys.create_actor<coordinator>();
  auto context = sys.private_context();
  context.tell(coord, pool);
  const auto start = bench_clock::now();
  context.tell(coord, fork_rounds{rounds});
  await_replies(context, 1, "fork-join", base);
  return {ns_since(start) / static_cast<double>(rounds * workers)};
}

samples chameneos(const std::string& base, int creatures, std::int64_t meetings) {
  thespian::ActorSystem sys(base, caps_for(base));
  auto broker = sys.create_actor<mall>();
  auto context = sys.private_context();
  std::vector<ActorAddress> group;
  for (int i = 0; i < creatures; ++i) {
    group.push_back(sys.create_actor<chameneo>());
    context.tell(group.back(), static_cast<colour>(i % 3));
  }
  context.tell(broker, open_mall{meetings, creatures});
  const auto start = bench_clock::now();
  for (const auto& c : group) context.tell(c, enter_mall{broker});
  await_replies(context, 1, "chameneos", base);
  return {ns_since(start) / static_cast<double>(meetings)};
}

samples ask_blocking(const std::string& base, std::int64_t asks) {
  thespian::ActorSystem sys(base, caps_for(base));
  auto target = sys.create_actor<echo>();
  samples out;
  out.reserve(static_cast<std::size_t>(asks));
  for (std::int64_t i = 0; i < asks; ++i) {
    const auto start = bench_clock::now();
    auto reply = sys.ask(target, i, finish_timeout);
    out.push_back(ns_since(start));
    if (!reply) throw std::runtime_error("ask on " + base + " got no reply within the timeout");
  }
  return out;
}

samples ask_coroutine(const std::string& base, std::int64_t asks) {
  thespian::ActorSystem sys(base, caps_for(base));
  auto target = sys.create_actor<echo>();
  samples out;
  out.reserve(static_cast<std::size_t>(asks));
  asio::io_context io(1);
  std::exception_ptr failure;
  asio::co_spawn(io, ask_loop(coroutine_asks{&sys, target, asks, &out}),
                 [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

samples big_message(const std::string& base, std::int64_t bytes, std::int64_t round_trips) {
  thespian::ActorSystem sys(base, caps_for(base));
  auto target = sys.create_actor<echo>();
  const std::string original(static_cast<std::size_t>(bytes), 'x');
  samples out;
  for (std::int64_t i = 0; i < round_trips; ++i) {
    const auto start = bench_clock::now();
    std::string payload = original;  // a fresh payload each time, as an application builds one
    auto reply = sys.ask(target, std::move(payload), finish_timeout);
    out.push_back(ns_since(start));
    if (!reply || reply->as<std::string>().size() != original.size()) {
      throw std::runtime_error("big message on " + base + " did not come back whole");
    }
  }
  return out;
}

}  // namespace bench::ours
