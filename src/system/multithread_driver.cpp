// multithreadBase's driver: a pool of "Thread Count" threads runs the io_context; idle
// threads block in Asio's scheduler rather than spin. Callers outside the actors block on one
// condition variable that every delivery to an external endpoint signals.
#include <condition_variable>
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
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, pred);
  }

  void run_until_quiet() override {}

  void notify() override {
    { std::lock_guard lock(mutex_); }  // orders the change before a waiter's next check
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
};

}  // namespace

std::unique_ptr<base_driver> make_multithread_driver(asio::io_context& context,
                                                     std::size_t threads) {
  return std::make_unique<multithread_driver>(context, threads);
}

}  // namespace thespian::detail
