// run_queue: hands actors that have mail and a parked receive loop to the system's threads,
// without going through Asio's handler queue for each one. A "drain" (an ordinary handler on
// the io_context) resumes ready actors one after another by calling their parked loop directly.
// An actor made ready by a send from inside a drain goes to that drain's private "next" slot, so
// a ping-pong pair hands over on one thread without a lock or a wake-up; anything else goes to
// the shared queue, and a further drain is posted while fewer than one per thread are running.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include <asio/io_context.hpp>

#include "core/spin_lock.hpp"

namespace thespian::detail {

// Something the run queue can resume: an actor cell whose loop is parked waiting for mail.
class runnable {
 public:
  // Resumes the parked loop on the calling thread; returns when it parks again (or finishes).
  virtual void run_scheduled() = 0;

 protected:
  ~runnable() = default;
};

class run_queue {
 public:
  run_queue(asio::io_context& context, std::size_t max_drains)
      : context_(context), max_drains_(max_drains == 0 ? 1 : max_drains) {}
  run_queue(const run_queue&) = delete;
  run_queue& operator=(const run_queue&) = delete;

  // Thread-safe. `r` must stay alive and parked until the queue resumes it (or clear()).
  void schedule(runnable* r);
  // Like schedule(), but always behind what is already queued (a yield), never in the slot.
  void schedule_later(runnable* r) { push_shared(r); }
  // After the system's threads have stopped: forgets whatever is still queued.
  void clear();

  // The drain running on a thread: where sends from the actor it runs put the actors they
  // make ready.
  // Actors a pool drain's actor made ready while the slot was taken: this drain runs them,
  // in order, after the slot's. They are not offered to the other threads: an actor that
  // creates children and greets each one (spawn) made ~2x the work on two cores that it makes
  // on one, the children's cells, the queue's line and the parent's counts crossing between
  // cores for each child. Past kLocalLimit, the older half goes to the shared queue.
  struct local_queue {
    std::vector<runnable*> items;
    std::size_t head = 0;
    bool empty() const noexcept { return head == items.size(); }
    runnable* pop() noexcept {
      runnable* r = items[head++];
      if (head == items.size()) {
        items.clear();
        head = 0;
      }
      return r;
    }
  };

  struct drain_context {
    run_queue* owner;
    runnable* next;
    bool pool;  // a drain of the pool (false: a caller_turn, which never takes shared entries)
    local_queue local{};  // pool drains only
  };

  // A thread outside the pool that sends and then blocks for the answer (a blocking ask): the
  // actor its send makes ready waits in a slot of this thread's own instead of the shared
  // queue, so no pool thread is woken, and run() resumes it here, the reply arriving before
  // the caller would block. Two thread wake-ups per ask become none. A thread that already
  // runs a drain (an actor) is left as it is.
  class caller_turn {
   public:
    explicit caller_turn(run_queue& queue);
    caller_turn(const caller_turn&) = delete;
    caller_turn& operator=(const caller_turn&) = delete;
    // Resumes what the send made ready (and what those actors make ready, for one turn).
    void run();
    // Leaves the slot; an actor still in it goes to the shared queue for the pool.
    ~caller_turn();

   private:
    run_queue& queue_;
    drain_context here_;
    bool entered_;
  };

 private:
  // Resumes `first` (when not null), then `local`'s, then ready actors, for one turn.
  void drain(runnable* first, local_queue local);
  // Moves `count` of the oldest entries of `local` to the shared queue.
  void spill(local_queue& local, std::size_t count);
  // Adds to the shared queue, and posts a drain when one more may run.
  void push_shared(runnable* r);
  // The next shared entry, or nullptr after retiring the calling drain.
  // linger: look again for a while before retiring (a pool with more than one thread).
  runnable* pop_shared_or_retire(bool linger);

  asio::io_context& context_;
  const std::size_t max_drains_;
  // A spin lock, not a std::mutex: its sections are a push or a pop, and under contention (a
  // parent on one thread scheduling children that the other thread takes) a pthread mutex put
  // the loser to sleep in the kernel, a futex wait and wake per collision.
  spin_lock mutex_;
  std::deque<runnable*> shared_;
  std::atomic<std::size_t> queued_{0};  // shared_.size(), for a lingering drain's unlocked look
  std::size_t drains_ = 0;  // posted or running
};

}  // namespace thespian::detail
