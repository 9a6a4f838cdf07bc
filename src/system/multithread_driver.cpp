// multithreadBase's driver: a pool of "Thread Count" threads runs the io_context; idle
// threads block in Asio's scheduler rather than spin. Callers outside the actors first spin a
// few microseconds on their condition (a blocking ask's reply usually lands within that), then
// block on one condition variable; a delivery signals it only when someone is blocked there.
// The spin adapts: when spins keep failing (a loaded machine, where the spinning caller only
// keeps the answering thread off a core) it shrinks, and it grows back when they succeed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>

#include "system/base_driver.hpp"

namespace thespian::detail {
namespace {

class multithread_driver final : public base_driver {
 public:
  multithread_driver(asio::io_context& context, std::size_t threads)
      : context_(context), work_(asio::make_work_guard(context)) {
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { context_.run(); });
    }
  }
  ~multithread_driver() override { stop(); }

  bool wait_until(const std::function<bool()>& pred, clock::time_point deadline) override {
    if (spin(pred, deadline)) return true;
    std::unique_lock lock(mutex_);
    // Announced before the check under the lock: a notify() after this either sees blocked_
    // (and signals under mutex_, so not before the wait starts) or its change is seen by pred.
    blocked_.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const bool held = changed_.wait_until(lock, deadline, pred);
    blocked_.fetch_sub(1, std::memory_order_relaxed);
    return held;
  }

  void run_until_quiet() override {}

  void notify() override {
    // Pairs with the fetch_add in wait_until (a store then a load on each side).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (blocked_.load(std::memory_order_relaxed) == 0) return;  // spinning waiters see it
    { std::lock_guard lock(mutex_); }  // orders the change before a blocked waiter's next check
    changed_.notify_all();
  }

  void stop() override {
    work_.reset();
    context_.stop();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }

  std::size_t thread_count() const override { return threads_.size(); }

 private:
  // How long a caller spins before blocking, at most and at least: a round trip to an actor
  // on a woken pool thread takes a few microseconds, while blocking and being woken costs two
  // futex calls more.
  static constexpr std::int64_t kMaxSpinNs = 20'000;
  static constexpr std::int64_t kMinSpinNs = 500;

  bool spin(const std::function<bool()>& pred, clock::time_point deadline) {
    const std::int64_t budget = spin_ns_.load(std::memory_order_relaxed);
    const auto until = std::min(deadline, clock::now() + std::chrono::nanoseconds(budget));
    bool held = false;
    for (;;) {
      for (int i = 0; i < 32 && !held; ++i) {
        held = pred();
#if defined(__x86_64__) || defined(__i386__)
        if (!held) __builtin_ia32_pause();
#endif
      }
      if (held || clock::now() >= until) break;
    }
    held = held || pred();
    const std::int64_t next = held ? std::min(kMaxSpinNs, budget * 2) : std::max(kMinSpinNs, budget / 2);
    spin_ns_.store(next, std::memory_order_relaxed);
    return held;
  }

  asio::io_context& context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::atomic<int> blocked_{0};  // callers blocked (or about to block) on changed_
  std::atomic<std::int64_t> spin_ns_{kMaxSpinNs};  // the current spin budget
};

}  // namespace

std::unique_ptr<base_driver> make_multithread_driver(asio::io_context& context,
                                                     std::size_t threads) {
  return std::make_unique<multithread_driver>(context, threads);
}

}  // namespace thespian::detail
