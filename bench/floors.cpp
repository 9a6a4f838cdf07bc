// The floors: the same traffic as the workloads with no actor framework at all (a function
// call, an asio::post hand-off, mutex/condvar queues between threads, memcpy). They bound from
// below what any actor framework can reach on this machine, measured in the same run.
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "thespian/detail/small_pool.hpp"
#include "workloads.hpp"

namespace bench {

std::int64_t resident_bytes_after_trim() {
  // Our small pool's shared depot keeps up to 16 MiB of freed blocks for the next burst, as
  // glibc keeps freed memory until malloc_trim: both are given back before reading, so the
  // idle-actor row counts what the actors hold, not what the spawn's mail left (~40 B/actor).
  thespian::detail::small_pool_trim();
  malloc_trim(0);
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (!statm) throw std::runtime_error("cannot open /proc/self/statm");
  long size_pages = 0, resident_pages = 0;
  const int got = std::fscanf(statm, "%ld %ld", &size_pages, &resident_pages);
  std::fclose(statm);
  if (got != 2) throw std::runtime_error("cannot parse /proc/self/statm");
  return static_cast<std::int64_t>(resident_pages) * sysconf(_SC_PAGESIZE);
}

namespace floors {
namespace {

using bench_clock = std::chrono::steady_clock;

double ns_since(bench_clock::time_point start) {
  return std::chrono::duration<double, std::nano>(bench_clock::now() - start).count();
}

__attribute__((noinline)) std::int64_t bounce(std::int64_t n) { return n - 1; }

struct post_chain {
  asio::io_context* context;
  std::int64_t remaining;
  void operator()() {
    if (--remaining > 0) asio::post(*context, *this);
  }
};

// The plainest cross-thread queue: a deque under a mutex, a condvar to wake the consumer.
template <class T>
class mutex_queue {
 public:
  void push(T value) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(value));
    }
    ready_.notify_one();
  }
  T pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return !items_.empty(); });
    T value = std::move(items_.front());
    items_.pop_front();
    return value;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<T> items_;
};

asio::awaitable<void> hop_loop(asio::io_context::executor_type worker, std::int64_t count,
                                  samples* out) {
  for (std::int64_t i = 0; i < count; ++i) {
    const auto start = bench_clock::now();
    // Runs on the worker's thread, then resumes here on our own executor: one round trip.
    co_await asio::post(worker, asio::use_awaitable);
    out->push_back(ns_since(start));
  }
}

}  // namespace

samples direct_call(std::int64_t calls) {
  std::int64_t (*volatile fn)(std::int64_t) = &bounce;
  const auto start = bench_clock::now();
  for (std::int64_t i = calls; i > 0;) i = fn(i);
  return {ns_since(start) / static_cast<double>(calls)};
}

samples asio_post(std::int64_t posts) {
  asio::io_context context(1);
  const auto start = bench_clock::now();
  asio::post(context, post_chain{&context, posts});
  context.run();
  return {ns_since(start) / static_cast<double>(posts)};
}

samples mutex_queue_pingpong(std::int64_t messages, int in_flight) {
  // A ball holds the hops it still has to make; 0 means it has arrived for good. -1 tells the
  // ping side that a ball ended on the pong side, -2 stops the pong thread.
  mutex_queue<std::int64_t> to_pong, to_ping;
  const std::int64_t hops = messages / in_flight;
  const auto start = bench_clock::now();
  std::thread pong([&] {
    for (;;) {
      const std::int64_t n = to_pong.pop();
      if (n == -2) return;
      to_ping.push(n == 0 ? -1 : n - 1);
    }
  });
  for (int i = 0; i < in_flight; ++i) to_pong.push(hops - 1);
  int finished = 0;
  while (finished < in_flight) {
    const std::int64_t n = to_ping.pop();
    if (n <= 0) {
      ++finished;
    } else {
      to_pong.push(n - 1);
    }
  }
  const double ns = ns_since(start);
  to_pong.push(-2);
  pong.join();
  return {ns / static_cast<double>(hops * in_flight)};
}

samples mutex_queue_fan_in(std::int64_t per_sender, int senders) {
  mutex_queue<std::int64_t> queue;
  const auto start = bench_clock::now();
  std::vector<std::thread> producers;
  for (int s = 0; s < senders; ++s) {
    producers.emplace_back([&queue, per_sender] {
      for (std::int64_t i = 0; i < per_sender; ++i) queue.push(i);
    });
  }
  for (std::int64_t i = 0; i < per_sender * senders; ++i) queue.pop();
  const double ns = ns_since(start);
  for (auto& p : producers) p.join();
  return {ns / static_cast<double>(per_sender * senders)};
}

samples alloc_and_post(std::int64_t objects) {
  struct state {
    char bytes[64];
  };
  asio::io_context context(1);
  std::vector<std::unique_ptr<state>> alive;
  alive.reserve(static_cast<std::size_t>(objects));
  std::int64_t answered = 0;
  const auto start = bench_clock::now();
  for (std::int64_t i = 0; i < objects; ++i) {
    alive.push_back(std::make_unique<state>());
    asio::post(context, [&answered] { ++answered; });
  }
  context.run();
  const double ns = ns_since(start);
  if (answered != objects) throw std::runtime_error("alloc+post floor lost handlers");
  return {ns / static_cast<double>(objects)};
}

samples asio_pool_fork_join(int workers, std::int64_t rounds) {
  asio::io_context pool(bench_threads);
  auto guard = asio::make_work_guard(pool);
  std::vector<std::thread> threads;
  for (int i = 0; i < bench_threads; ++i) threads.emplace_back([&pool] { pool.run(); });
  std::mutex mutex;
  std::condition_variable joined;
  const auto start = bench_clock::now();
  for (std::int64_t r = 0; r < rounds; ++r) {
    std::atomic<int> pending{workers};
    bool all_done = false;
    for (int w = 0; w < workers; ++w) {
      asio::post(pool, [&, w] {
        volatile std::int64_t v = lcg_step(w);
        (void)v;
        if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          {
            std::lock_guard lock(mutex);
            all_done = true;
          }
          joined.notify_one();
        }
      });
    }
    std::unique_lock lock(mutex);
    joined.wait(lock, [&] { return all_done; });
  }
  const double ns = ns_since(start);
  guard.reset();
  for (auto& t : threads) t.join();
  return {ns / static_cast<double>(rounds * workers)};
}

samples mutex_queue_round_trip(std::int64_t round_trips) {
  mutex_queue<std::int64_t> requests, replies;
  std::thread server([&] {
    for (;;) {
      const std::int64_t n = requests.pop();
      replies.push(n);
      if (n < 0) return;
    }
  });
  samples out;
  out.reserve(static_cast<std::size_t>(round_trips));
  for (std::int64_t i = 0; i < round_trips; ++i) {
    const auto start = bench_clock::now();
    requests.push(i);
    replies.pop();
    out.push_back(ns_since(start));
  }
  requests.push(-1);
  replies.pop();
  server.join();
  return out;
}

samples asio_coroutine_round_trip(std::int64_t round_trips) {
  asio::io_context worker(1);
  auto guard = asio::make_work_guard(worker);
  std::thread worker_thread([&worker] { worker.run(); });
  asio::io_context home(1);
  samples out;
  out.reserve(static_cast<std::size_t>(round_trips));
  std::exception_ptr failure;
  asio::co_spawn(home, hop_loop(worker.get_executor(), round_trips, &out),
                 [&failure](std::exception_ptr e) { failure = e; });
  home.run();
  guard.reset();
  worker_thread.join();
  if (failure) std::rethrow_exception(failure);
  return out;
}

samples memcpy_bytes(std::int64_t bytes, std::int64_t copies) {
  const std::string source(static_cast<std::size_t>(bytes), 'x');
  samples out;
  for (std::int64_t i = 0; i < copies; ++i) {
    const auto start = bench_clock::now();
    std::string copy = source;  // the same copy the workloads make of their payload
    asm volatile("" : : "r"(copy.data()) : "memory");
    out.push_back(ns_since(start));
  }
  return out;
}

}  // namespace floors
}  // namespace bench
