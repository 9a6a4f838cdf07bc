// In-process ping-pong: two actors bounce a counter N times; reports ns per message on each
// in-process base next to floors measured in the same run (a plain function call and an
// asio::post hand-off on one thread) and, when built with it, CAF doing the same on the same
// number of threads, so the ratios hold on a noisy machine.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#if THESPIAN_BENCH_WITH_CAF
#include "caf_pingpong.hpp"
#endif

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <thespian/thespian.hpp>

using namespace std::chrono_literals;
using bench_clock = std::chrono::steady_clock;

namespace bench {

struct Start {
  thespian::ActorAddress partner;
  std::int64_t count;
};

// Bounces every int64 back to its sender decremented; reports 0 to whoever started it.
class Player : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message m, thespian::ActorAddress from) override {
    if (const auto* n = m.get<std::int64_t>()) {
      if (*n == 0) {
        send(starter_, std::int64_t{0});
      } else {
        send(from, *n - 1);
      }
    } else if (const auto* start = m.get<Start>()) {
      starter_ = from;
      send(start->partner, start->count);
    } else if (const auto* starter = m.get<thespian::ActorAddress>()) {
      starter_ = *starter;
    }
    co_return;
  }

 private:
  thespian::ActorAddress starter_;
};

double run_thespian(const char* base, std::int64_t n) {
  thespian::Capabilities caps;
  if (std::string(base) == "multithreadBase") caps["Thread Count"] = std::int64_t{2};
  thespian::ActorSystem sys(base, caps);
  auto ping = sys.create_actor<Player>();
  auto pong = sys.create_actor<Player>();
  auto context = sys.private_context();
  context.tell(pong, context.address());
  const auto start = bench_clock::now();
  auto done = context.ask(ping, Start{pong, n}, 60s);
  const auto elapsed = bench_clock::now() - start;
  if (!done) {
    std::fprintf(stderr, "ping-pong on %s did not finish\n", base);
    std::exit(1);
  }
  return std::chrono::duration<double, std::nano>(elapsed).count() / static_cast<double>(n);
}

__attribute__((noinline)) std::int64_t bounce(std::int64_t n) { return n - 1; }

double run_direct_call(std::int64_t n) {
  std::int64_t (*volatile fn)(std::int64_t) = &bounce;
  const auto start = bench_clock::now();
  for (std::int64_t i = n; i > 0;) i = fn(i);
  return std::chrono::duration<double, std::nano>(bench_clock::now() - start).count() /
         static_cast<double>(n);
}

struct post_chain {
  asio::io_context* context;
  std::int64_t remaining;
  void operator()() {
    if (--remaining > 0) asio::post(*context, *this);
  }
};

double run_asio_post(std::int64_t n) {
  asio::io_context context(1);
  const auto start = bench_clock::now();
  asio::post(context, post_chain{&context, n});
  context.run();
  return std::chrono::duration<double, std::nano>(bench_clock::now() - start).count() /
         static_cast<double>(n);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double best_of(int runs, const std::function<double()>& f) {
  std::vector<double> samples;
  for (int i = 0; i < runs; ++i) samples.push_back(f());
  return median(samples);
}

}  // namespace bench

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const double call = bench::best_of(runs, [&] { return bench::run_direct_call(n); });
  const double post = bench::best_of(runs, [&] { return bench::run_asio_post(n); });
#if THESPIAN_BENCH_WITH_CAF
  const double caf = bench::best_of(runs, [&] { return bench::caf_pingpong_ns(n, 2); });
#else
  const double caf = 0;
#endif
  std::printf("%-34s %10s %12s %10s %10s %10s\n", "workload", "N", "ns/msg(med)", "x call",
              "x post", "x CAF");
  auto row = [&](const char* name, double ns) {
    std::printf("%-34s %10lld %12.1f %10.1f %10.1f", name, static_cast<long long>(n), ns,
                ns / call, ns / post);
    if (caf > 0) {
      std::printf(" %10.2f\n", ns / caf);
    } else {
      std::printf(" %10s\n", "-");
    }
  };
  row("floor: direct call", call);
  row("floor: asio::post hand-off", post);
  if (caf > 0) row("CAF 0.17 ping-pong (2 threads)", caf);
  row("ping-pong multithreadBase (2 thr)",
      bench::best_of(runs, [&] { return bench::run_thespian("multithreadBase", n); }));
  row("ping-pong simpleSystemBase",
      bench::best_of(runs, [&] { return bench::run_thespian("simpleSystemBase", n); }));
  return 0;
}
