// run_queue: hands actors that have mail and a parked receive loop to the system's threads,
// without going through Asio's handler queue for each one. A "drain" (an ordinary handler on
// the io_context) resumes ready actors one after another by calling their parked loop directly.
// An actor made ready by a send from inside a drain goes to that drain's private "next" slot, so
// a ping-pong pair hands over on one thread without a lock or a wake-up; an actor displaced from
// the slot waits in the drain's local queue (its "lane"), from which an idle thread steals when
// the drain's current actor runs long; anything else goes to the shared queue, and a further
// drain is posted while fewer than one per thread are running.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

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
  run_queue(asio::io_context& context, std::size_t max_drains);
  ~run_queue();
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
  // Actors a pool drain's actor made ready while the slot was taken go to the drain's lane
  // (its local queue, run_queue.cpp): this drain runs them, in order, after the slot's. Other
  // threads do not take an actor's own products while it runs, nor anything from a drain whose
  // actors keep finishing: an actor that creates children and greets each one (spawn) made
  // ~2x the work on two cores that it makes on one, the children's cells, the queue's line and
  // the parent's counts crossing between cores for each child. An idle pool thread takes the
  // older half of what waited before the drain's current actor began once that actor has run
  // for 1-2 ms (work stealing): a coordinator that hands long tasks to several workers in
  // one on_message gets them run in parallel.
  struct lane;

  struct drain_context {
    run_queue* owner;
    runnable* next;
    lane* local;  // a pool drain's; nullptr for a caller_turn, which never takes shared entries
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
  struct watcher;

  // Resumes `first` (when not null), then `local`'s, then ready actors, for one turn.
  void drain(lane* local, runnable* first);
  // Moves `count` of the oldest entries of `local` to the shared queue.
  void spill(lane& local, std::size_t count);
  // Adds to the shared queue, and posts a drain when one more may run.
  void push_shared(runnable* r);
  // Under mutex_: counts one more drain and gives it a free lane, or nullptr when
  // max_drains_ run already.
  lane* claim_drain_locked();
  void post_drain(lane* local);
  // The next shared entry, or nullptr after retiring the calling drain (whose lane is empty).
  // linger: look again for a while before retiring (a pool with more than one thread).
  runnable* pop_shared_or_retire(lane& mine, bool linger);
  // The owner's: appends to its lane (past kLocalLimit, spills the older half), and arms the
  // watch when the lane was empty.
  void keep_local(lane& local, runnable* r);
  // Takes the older half of what `victim` queued before its current actor began; returns the
  // first of them (to run next) and keeps the rest in `mine`. nullptr: nothing to take.
  runnable* steal(lane& victim, lane& mine);
  // While actors wait in some lane, a timer looks at the lanes every millisecond: a lane whose
  // drain began no actor between two looks gives the older half of what waited before its
  // current actor to a drain started for it on the timer's (idle) thread.
  void watch();
  void on_watch();

  asio::io_context& context_;
  const std::size_t max_drains_;
  // A spin lock, not a std::mutex: its sections are a push or a pop, and under contention (a
  // parent on one thread scheduling children that the other thread takes) a pthread mutex put
  // the loser to sleep in the kernel, a futex wait and wake per collision.
  spin_lock mutex_;
  std::deque<runnable*> shared_;
  std::atomic<std::size_t> queued_{0};  // shared_.size(), for a lingering drain's unlocked look
  std::size_t drains_ = 0;  // posted or running
  const std::unique_ptr<lane[]> lanes_;  // one per drain that may run at once
  const bool stealing_;                  // more than one drain may run
  std::atomic<bool> watching_{false};    // the watch timer is armed (while a lane holds actors)
  const std::unique_ptr<watcher> watcher_;
};

}  // namespace thespian::detail
