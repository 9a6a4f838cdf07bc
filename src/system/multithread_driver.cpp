// multithreadBase's driver: a pool of "Thread Count" threads runs the io_context; idle
// threads block in Asio's scheduler rather than spin. Callers outside the actors block on one
// condition variable; a delivery signals it only when someone is blocked there. (A caller that
// spun before blocking was measured too: on this 2-core machine under load it did not lower the
// median blocking ask and doubled its p99, since the spinning caller keeps the answering pool
// thread off a core.)
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>

#include "core/outbox.hpp"
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
    flush_gathered_sends_here();  // called from inside an actor: what it waits for may need them
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
    if (blocked_.load(std::memory_order_relaxed) == 0) return;  // nobody to wake
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
  asio::io_context& context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::atomic<int> blocked_{0};  // callers blocked (or about to block) on changed_
};

}  // namespace

std::unique_ptr<base_driver> make_multithread_driver(asio::io_context& context,
                                                     std::size_t threads) {
  return std::make_unique<multithread_driver>(context, threads);
}

}  // namespace thespian::detail
