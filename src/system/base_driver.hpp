// base_driver: what distinguishes one in-process system base from another — who runs the
// io_context that carries every actor coroutine, and how a caller waits for something to
// happen. simpleSystemBase runs it on the caller's thread inside each call; multithreadBase
// runs it on a pool of threads and callers block on a condition variable.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include <asio/io_context.hpp>

namespace thespian::detail {

using clock = std::chrono::steady_clock;

// now + timeout, saturated: a caller may pass nanoseconds::max() to mean "no limit".
inline clock::time_point deadline_after(std::chrono::nanoseconds timeout) {
  const auto now = clock::now();
  if (timeout <= std::chrono::nanoseconds::zero()) return now;
  if (timeout >= clock::time_point::max() - now) return clock::time_point::max();
  return now + timeout;
}

class base_driver {
 public:
  virtual ~base_driver() = default;

  // Waits until pred() holds or the deadline passes; true when pred() held. Callable from any
  // thread outside the actors. pred must be cheap and thread-safe.
  virtual bool wait_until(const std::function<bool()>& pred, clock::time_point deadline) = 0;
  // simpleSystemBase: runs ready actors until none is, or until the run limit; otherwise a no-op.
  virtual void run_until_quiet() = 0;
  // Something a waiter's predicate reads has changed.
  virtual void notify() = 0;
  // Stops running the io_context for good (threads joined).
  virtual void stop() = 0;
  virtual std::size_t thread_count() const = 0;
};

std::unique_ptr<base_driver> make_simple_driver(asio::io_context& context, std::size_t run_limit);
std::unique_ptr<base_driver> make_multithread_driver(asio::io_context& context,
                                                     std::size_t threads);
// An actor process's: the thread that calls wait_until() runs the io_context (caller_driver.cpp).
std::unique_ptr<base_driver> make_caller_driver(asio::io_context& context);

}  // namespace thespian::detail
