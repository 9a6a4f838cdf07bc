// spin_lock: the lock of an actor's mailbox, of the run queue's shared queue and of a
// transport's outbound queue. Its critical sections are short (append one envelope, swap two
// chunk chains, push or pop one entry; at most an ACK for a window of messages, a few
// microseconds), so an uncontended lock costs one atomic exchange rather than a pthread mutex
// call, and a contended one does not put its waiter to sleep in futex; a waiter that keeps
// losing yields its thread so that a preempted holder can finish.
#pragma once

#include <atomic>
#include <thread>

namespace thespian::detail {

class spin_lock {
 public:
  // The uncontended case inline (one exchange); the waiting loop out of line.
  void lock() noexcept {
    if (!locked_.exchange(true, std::memory_order_acquire)) [[likely]] return;
    lock_contended();
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  [[gnu::noinline]] void lock_contended() noexcept {
    for (int spins = 0; locked_.exchange(true, std::memory_order_acquire); ++spins) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins >= kSpinsBeforeYield) {
          spins = 0;
          std::this_thread::yield();
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
    }
  }
  static constexpr int kSpinsBeforeYield = 64;
  std::atomic<bool> locked_{false};
};

}  // namespace thespian::detail
