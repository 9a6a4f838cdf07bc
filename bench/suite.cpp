// The suite itself: which workloads run at which size (make_workloads) and the runner that
// repeats each measurement, summarises its samples and computes the ratios within a workload.
// Sizes: --quick keeps the whole suite well under two minutes on two cores; --full is ~10x.
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "fresh_process.hpp"
#include "remote_floors.hpp"
#include "workloads.hpp"

namespace bench {
namespace {

const std::vector<std::string> our_bases = {"simpleSystemBase", "multithreadBase"};

std::string size_label(std::int64_t bytes) {
  if (bytes >= (1 << 20)) return std::to_string(bytes >> 20) + "MiB";
  return std::to_string(bytes >> 10) + "KiB";
}

measurement ours_row(const std::string& base, std::int64_t n, std::function<samples()> run,
                     int runs = 0) {
  return {base, row_kind::ours, n, std::move(run), runs};
}

measurement caf_row(std::int64_t n, std::function<samples()> run, int runs = 0) {
  return {"caf", row_kind::caf, n, std::move(run), runs};
}

measurement floor_row(const std::string& name, std::int64_t n, std::function<samples()> run,
                      int runs = 0) {
  return {"floor:" + name, row_kind::floor, n, std::move(run), runs};
}

// Runs `run` with this thread, and every process it starts (they inherit the mask), on the one
// CPU it is on now. For the remote rows and their raw floors alike: on a VM a process woken on
// an idle vCPU can wait ~50 us for it to leave its halt, a raw round trip rarely pays that
// while ours might, and then the ratio measures the hypervisor. On one CPU both pay the same
// switches, and the ratio is the CPU each round trip costs.
std::function<samples()> on_one_cpu(std::function<samples()> run) {
  return [run = std::move(run)] {
    cpu_set_t before;
    CPU_ZERO(&before);
    const int cpu = ::sched_getcpu();
    if (cpu < 0 || ::sched_getaffinity(0, sizeof before, &before) != 0) return run();
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ::sched_setaffinity(0, sizeof one, &one);
    struct restore {
      const cpu_set_t& mask;
      ~restore() { ::sched_setaffinity(0, sizeof mask, &mask); }
    } restore_after{before};
    return run();
  };
}

double percentile(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

bool built_with_caf() { return THESPIAN_BENCH_WITH_CAF != 0; }

std::string filter_error(const std::string& filter) {
  try {
    std::regex check(filter);
  } catch (const std::regex_error& e) {
    return e.what();
  }
  return {};
}

#if !THESPIAN_BENCH_WITH_CAF
std::string caf_version() { return ""; }
#endif

std::vector<workload> make_workloads(suite_size size) {
  const std::int64_t k = size == suite_size::full ? 10 : 1;  // scale of every count
  constexpr int once = 1;                                     // latency rows: one run of many ops
  std::vector<workload> all;

  for (const int in_flight : {1, 100}) {
    workload w{"ping-pong-" + std::to_string(in_flight), "ns/msg",
               "two actors bounce " + std::to_string(in_flight) +
                   " message(s) back and forth: the cost of one send+receive",
               {}};
    const std::int64_t n = (in_flight == 1 ? 100'000 : 200'000) * k;
    for (const auto& base : our_bases) {
      w.measurements.push_back(ours_row(base, n, [=] { return ours::pingpong(base, n, in_flight); }));
    }
#if THESPIAN_BENCH_WITH_CAF
    w.measurements.push_back(caf_row(n, [=] { return caf_side::pingpong(n, in_flight); }));
#endif
    w.measurements.push_back(floor_row("direct-call", 10'000'000 * k,
                                       [=] { return floors::direct_call(10'000'000 * k); }));
    w.measurements.push_back(floor_row("asio-post", 1'000'000 * k,
                                       [=] { return floors::asio_post(1'000'000 * k); }));
    const std::int64_t mq = (in_flight == 1 ? 20'000 : 200'000) * k;
    w.measurements.push_back(floor_row("mutex-queue", mq, [=] {
      return floors::mutex_queue_pingpong(mq, in_flight);
    }));
    all.push_back(std::move(w));
  }

  {
    // The same traffic as ping-pong-1 through a coroutine receive(): what an actor that awaits
    // pays per message over on_message(). Ours only (CAF has no counterpart).
    const std::int64_t n = 100'000 * k;
    workload w{"ping-pong-1-coroutine", "ns/msg",
               "ping-pong-1 with actors that handle messages in a coroutine receive()", {}};
    for (const auto& base : our_bases) {
      w.measurements.push_back(ours_row(base, n, [=] { return ours::pingpong(base, n, 1, true); }));
    }
    w.measurements.push_back(floor_row("asio-post", 1'000'000 * k,
                                       [=] { return floors::asio_post(1'000'000 * k); }));
    all.push_back(std::move(w));
  }

  {
    constexpr int senders = 8;
    const std::int64_t per_sender = 12'500 * k;
    const std::int64_t n = per_sender * senders;
    workload w{"fan-in", "ns/msg", "8 actors send to one: contention on one mailbox", {}};
    for (const auto& base : our_bases) {
      w.measurements.push_back(ours_row(base, n, [=] { return ours::fan_in(base, per_sender, senders); }));
    }
#if THESPIAN_BENCH_WITH_CAF
    w.measurements.push_back(caf_row(n, [=] { return caf_side::fan_in(per_sender, senders); }));
#endif
    w.measurements.push_back(floor_row("mutex-queue", n, [=] {
      return floors::mutex_queue_fan_in(per_sender, senders);
    }));
    w.measurements.push_back(floor_row("asio-post", 1'000'000 * k,
                                       [=] { return floors::asio_post(1'000'000 * k); }));
    all.push_back(std::move(w));
  }

  {
    constexpr int actors = 503;
    const std::int64_t hops = 100'000 * k;
    workload w{"thread-ring", "ns/hop",
               "a token passed around a ring of 503 actors: hand-off between many actors", {}};
    for (const auto& base : our_bases) {
      w.measurements.push_back(ours_row(base, hops, [=] { return ours::thread_ring(base, actors, hops); }));
    }
#if THESPIAN_BENCH_WITH_CAF
    w.measurements.push_back(caf_row(hops, [=] { return caf_side::thread_ring(actors, hops); }));
#endif
    w.measurements.push_back(floor_row("asio-post", 1'000'000 * k,
                                       [=] { return floors::asio_post(1'000'000 * k); }));
    w.measurements.push_back(floor_row("direct-call", 10'000'000 * k,
                                       [=] { return floors::direct_call(10'000'000 * k); }));
    all.push_back(std::move(w));
  }

  {
    // The issue asks for 100k; --quick spawns 10k because shutting 100k actors down takes ~20 s
    // per run today (the parent's exit sequence erases each exited child from a vector).
    const std::int64_t actors = size == suite_size::full ? 100'000 : 10'000;
    workload w{"spawn", "ns/actor", "an actor creates " + std::to_string(actors / 1000) + "k children that each answer it once", {}};
    workload bytes{"idle-actor-bytes", "B/actor",
                   "resident memory per idle actor after the spawn (RSS, /proc/self/statm; "
                   "each run in a fresh process)", {}};
    const int byte_runs = size == suite_size::full ? 3 : 1;
    // More actors for the resident size than for the timing: the RSS of a process moves by
    // megabytes on its own, which drowned 10k actors' ~5 MB (readings from -716 to 914 B/actor
    // in one session). Each reading is taken in a fresh process (fresh_process.hpp): in this
    // one, memory that the rows before freed and the allocators kept was reused without
    // raising the resident size (the same code read anywhere from 77 to 473 B/actor).
    const std::int64_t idle_actors = std::max<std::int64_t>(actors, 50'000);
    for (const auto& base : our_bases) {
      w.measurements.push_back(ours_row(base, actors, [=] { return ours::spawn(base, actors); }));
      bytes.measurements.push_back(ours_row(
          base, idle_actors,
          [=] { return in_fresh_process("idle-actor-bytes/" + base, idle_actors); },
          byte_runs));
    }
#if THESPIAN_BENCH_WITH_CAF
    w.measurements.push_back(caf_row(actors, [=] { return caf_side::spawn(actors); }));
    bytes.measurements.push_back(
        caf_row(idle_actors, [=] { return in_fresh_process("idle-actor-bytes/caf", idle_actors); },
                byte_runs));
#endif
    w.measurements.push_back(floor_row("alloc+post", actors,
                                       [=] { return floors::alloc_and_post(actors); }));
    all.push_back(std::move(w));
    all.push_back(std::move(bytes));
  }

  {
    constexpr int workers = 64;
    const std::int64_t rounds = 1'000 * k;
    workload w{"fork-join", "ns/task",
               "a coordinator sends one task to each of 64 workers and waits for all answers", {}};
    for (const auto& base : our_bases) {
      w.measurements.push_back(ours_row(base, rounds * workers, [=] {
        return ours::fork_join(base, workers, rounds);
      }));
    }
#if THESPIAN_BENCH_WITH_CAF
    w.measurements.push_back(caf_row(rounds * workers, [=] { return caf_side::fork_join(workers, rounds); }));
#endif
    w.measurements.push_back(floor_row("asio-pool", rounds * workers, [=] {
      return floors::asio_pool_fork_join(workers, rounds);
    }));
    all.push_back(std::move(w));
  }

  {
    constexpr int creatures = 10;
    const std::int64_t meetings = 20'000 * k;
    workload w{"chameneos", "ns/meeting",
               "10 chameneos meet through a broker: 4 messages per meeting, one hot mailbox", {}};
    for (const auto& base : our_bases) {
      w.measurements.push_back(ours_row(base, meetings, [=] {
        return ours::chameneos(base, creatures, meetings);
      }));
    }
#if THESPIAN_BENCH_WITH_CAF
    w.measurements.push_back(caf_row(meetings, [=] { return caf_side::chameneos(creatures, meetings); }));
#endif
    w.measurements.push_back(floor_row("mutex-queue-4msg", meetings, [=] {
      samples s = floors::mutex_queue_pingpong(4 * meetings, 1);
      for (auto& v : s) v *= 4;  // four hand-offs per meeting
      return s;
    }));
    all.push_back(std::move(w));
  }

  {
    const std::int64_t asks = 20'000 * k;
    workload blocking{"ask-blocking", "ns/ask",
                      "ActorSystem::ask from a plain thread to an echo actor: per-ask latency", {}};
    workload coroutine{"ask-coroutine", "ns/ask",
                       "co_await async_ask from a coroutine on its own io_context: per-ask latency",
                       {}};
    for (const auto& base : our_bases) {
      blocking.measurements.push_back(ours_row(base, asks, [=] { return ours::ask_blocking(base, asks); }, once));
      coroutine.measurements.push_back(ours_row(base, asks, [=] { return ours::ask_coroutine(base, asks); }, once));
    }
#if THESPIAN_BENCH_WITH_CAF
    blocking.measurements.push_back(caf_row(asks, [=] { return caf_side::ask_blocking(asks); }, once));
#endif
    blocking.measurements.push_back(floor_row("mutex-queue-rt", asks, [=] {
      return floors::mutex_queue_round_trip(asks);
    }, once));
    coroutine.measurements.push_back(floor_row("asio-coroutine-rt", asks, [=] {
      return floors::asio_coroutine_round_trip(asks);
    }, once));
    coroutine.measurements.push_back(floor_row("mutex-queue-rt", asks, [=] {
      return floors::mutex_queue_round_trip(asks);
    }, once));
    all.push_back(std::move(blocking));
    all.push_back(std::move(coroutine));
  }

  for (const std::int64_t bytes : {std::int64_t{1} << 10, std::int64_t{64} << 10,
                                   std::int64_t{1} << 20, std::int64_t{10} << 20}) {
    const std::int64_t trips =
        std::clamp<std::int64_t>((std::int64_t{256} << 20) / bytes, 10, 2'000) * k;
    workload w{"big-message-" + size_label(bytes), "ns/round-trip",
               "a fresh " + size_label(bytes) + " payload to an echo actor and back (blocking ask)",
               {}};
    for (const auto& base : our_bases) {
      w.measurements.push_back(ours_row(base, bytes, [=] {
        return ours::big_message(base, bytes, trips);
      }, once));
    }
#if THESPIAN_BENCH_WITH_CAF
    w.measurements.push_back(caf_row(bytes, [=] { return caf_side::big_message(bytes, trips); }, once));
#endif
    w.measurements.push_back(floor_row("memcpy", bytes, [=] {
      return floors::memcpy_bytes(bytes, trips);
    }, once));
    all.push_back(std::move(w));
  }

  // Remote rows: between processes of each multi-process base, next to the raw socket of the
  // same kind (remote_floors.hpp), each pinned with its processes to one CPU (on_one_cpu). No CAF rows yet: the suite links only libcaf_core, and
  // CAF's remote actors need libcaf_io and a CAF program per process. Pipelined has no UDP row: a raw datagram flood without
  // acknowledgements is no floor for a reliable transport (bench/transport measures UDP).
  for (const std::string base : {"multiprocQueueBase", "multiprocTCPBase", "multiprocUDPBase"}) {
    const remote_floors::wire wire = remote_floors::wire_of(base);
    const std::string suffix = remote_floors::name_of(wire);
    const std::int64_t trips = 2'000 * k;
    workload pingpong{"remote-ping-pong-" + suffix, "ns/round-trip",
                      "a ball bounced between actors in two processes (" + base + ")", {}};
    pingpong.measurements.push_back(ours_row(base, trips, on_one_cpu([=] { return remote::pingpong(base, trips); }), once));
    pingpong.measurements.push_back(floor_row("raw-" + suffix + "-rt", trips, on_one_cpu([=] {
      return remote_floors::round_trips(wire, trips);
    }), once));
    all.push_back(std::move(pingpong));

    workload asks{"remote-ask-" + suffix, "ns/ask",
                  "ActorSystem::ask from this program to an actor process (" + base + ")", {}};
    asks.measurements.push_back(ours_row(base, trips, on_one_cpu([=] { return remote::ask(base, trips); }), once));
    asks.measurements.push_back(floor_row("raw-" + suffix + "-rt", trips, on_one_cpu([=] {
      return remote_floors::round_trips(wire, trips);
    }), once));
    all.push_back(std::move(asks));

    if (wire == remote_floors::wire::udp) continue;
    const std::int64_t messages = 20'000 * k;
    workload flood{"remote-pipelined-" + suffix, "ns/msg",
                   "64-byte messages sent back to back to an actor in another process (" + base + ")",
                   {}};
    flood.measurements.push_back(ours_row(base, messages, on_one_cpu([=] { return remote::pipelined(base, messages); }), 3));
    flood.measurements.push_back(floor_row("raw-" + suffix + "-stream", messages, on_one_cpu([=] {
      return remote_floors::stream(wire, messages);
    }), 3));
    all.push_back(std::move(flood));
  }
  return all;
}

row summarize(const std::string& workload, const std::string& unit, const measurement& m,
              const samples& all, int runs) {
  row r;
  r.workload = workload;
  r.unit = unit;
  r.base = m.base;
  r.kind = m.kind;
  r.n = m.n;
  r.runs = runs;
  r.stat = all.size() > static_cast<std::size_t>(runs) ? "ops" : "runs";
  std::vector<double> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  r.min = sorted.front();
  r.max = sorted.back();
  r.median = percentile(sorted, 0.5);
  r.p99 = percentile(sorted, 0.99);
  return r;
}

std::vector<row> run_suite(const suite_options& options,
                           const std::function<void(const std::string&)>& progress) {
  const std::regex filter(options.filter.empty() ? std::string(".*") : options.filter);
  std::vector<workload> workloads = make_workloads(options.size);
  std::size_t total = 0;
  for (const auto& w : workloads) {
    for (const auto& m : w.measurements) {
      if (std::regex_search(w.name + "/" + m.base, filter)) ++total;
    }
  }
  std::vector<row> rows;
  std::size_t done = 0;
  for (const auto& w : workloads) {
    const std::size_t first = rows.size();
    for (const auto& m : w.measurements) {
      if (!std::regex_search(w.name + "/" + m.base, filter)) continue;
      const int runs = m.runs > 0 ? m.runs : options.runs;
      progress("[" + std::to_string(++done) + "/" + std::to_string(total) + "] " + w.name + " " +
               m.base + " (N=" + std::to_string(m.n) + ", " + std::to_string(runs) + " run" +
               (runs == 1 ? "" : "s") + ")");
      samples all;
      try {
        for (int i = 0; i < runs; ++i) {
          samples s = m.run();
          all.insert(all.end(), s.begin(), s.end());
        }
        rows.push_back(summarize(w.name, w.unit, m, all, runs));
      } catch (const std::exception& e) {
        row failed;
        failed.workload = w.name;
        failed.unit = w.unit;
        failed.base = m.base;
        failed.kind = m.kind;
        failed.n = m.n;
        failed.runs = runs;
        failed.error = e.what();
        rows.push_back(failed);
        progress("  failed: " + failed.error);
      }
    }
    // Ratios inside the workload: ours to CAF and to each floor, CAF to each floor.
    for (std::size_t i = first; i < rows.size(); ++i) {
      row& r = rows[i];
      if (r.kind == row_kind::floor || !r.error.empty()) continue;
      for (std::size_t j = first; j < rows.size(); ++j) {
        const row& b = rows[j];
        const bool baseline = b.kind == row_kind::floor || (b.kind == row_kind::caf && r.kind == row_kind::ours);
        if (!baseline || !b.error.empty() || b.median <= 0) continue;
        r.ratios.push_back({b.base, r.median / b.median});
      }
    }
  }
  return rows;
}

}  // namespace bench
