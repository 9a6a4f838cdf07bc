// Implements run_queue (see run_queue.hpp): drains, the per-drain "next" slot, the shared queue.
#include "core/run_queue.hpp"

#include <asio/defer.hpp>
#include <asio/post.hpp>

namespace thespian::detail {
namespace {

// Actors a drain resumes before it yields its thread back to the io_context, so that timers,
// posted handlers and other systems' work get their turn (and simpleSystemBase's caller can
// check its condition and deadline).
constexpr int kResumesPerDrain = 64;

// A pool drain that finds the shared queue empty looks again for a few microseconds before it
// retires: an actor scheduled meanwhile (a parent creating children one after another) is
// then taken without posting a drain and waking a sleeping thread (a futex call and a context
// switch each, several microseconds on this VM). A pause is ~80 ns here: ~10 us in all.
constexpr int kLingerRounds = 8;
constexpr int kLingerPauses = 16;

// A drain's local queue (run_queue::local_queue) beyond this many actors gives its older half
// to the shared queue, where the other threads take them.
constexpr std::size_t kLocalLimit = 4096;

}  // namespace

namespace {
thread_local run_queue::drain_context* current_drain = nullptr;

// Out of line: inlined, the vector's growth path made every schedule() (a ping-pong's hand-off
// included, which never gets here) save and restore registers, ~4 instructions a message.
// true: the local queue has grown past kLocalLimit.
[[gnu::noinline]] bool keep_local(run_queue::drain_context& here, runnable* r) {
  here.local.items.push_back(r);
  return here.local.items.size() - here.local.head > kLocalLimit;
}
}  // namespace

void run_queue::schedule(runnable* r) {
  drain_context* here = current_drain;
  if (here && here->owner == this) {
    // A hand-off from an actor this drain is running: it runs next, on this thread. An actor
    // already waiting in the slot moves to the shared queue, where another thread may take it.
    runnable* previous = here->next;
    here->next = r;
    if (!previous) return;
    if (here->pool) {
      if (keep_local(*here, previous)) spill(here->local, kLocalLimit / 2);
      return;
    }
    // Another thread may take it: post a drain for it while one more may run.
    bool post = false;
    {
      std::lock_guard lock(mutex_);
      shared_.push_back(previous);
      queued_.store(shared_.size(), std::memory_order_relaxed);
      if (drains_ < max_drains_) {
        ++drains_;
        post = true;
      }
    }
    if (post) asio::post(context_, [this] { drain(nullptr, {}); });
    return;
  }
  push_shared(r);
}

void run_queue::push_shared(runnable* r) {
  // From a drain of this queue (an actor yielding its turn), that drain takes the entry after
  // what is queued before it: no further drain is posted, so a yield wakes no idle thread and
  // the actor does not hop threads every turn.
  const bool drained_here =
      current_drain != nullptr && current_drain->owner == this && current_drain->pool;
  bool post = false;
  {
    std::lock_guard lock(mutex_);
    shared_.push_back(r);
    queued_.store(shared_.size(), std::memory_order_relaxed);
    if (!drained_here && drains_ < max_drains_) {
      ++drains_;
      post = true;
    }
  }
  if (post) asio::post(context_, [this] { drain(nullptr, {}); });
}

runnable* run_queue::pop_shared_or_retire(bool linger) {
  for (int round = 0;; ++round) {
    {
      std::lock_guard lock(mutex_);
      if (!shared_.empty()) {
        runnable* r = shared_.front();
        shared_.pop_front();
        queued_.store(shared_.size(), std::memory_order_relaxed);
        return r;
      }
      if (!linger || round == kLingerRounds) {
        --drains_;
        return nullptr;
      }
    }
    for (int i = 0; i < kLingerPauses && queued_.load(std::memory_order_relaxed) == 0; ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
}

void run_queue::spill(local_queue& local, std::size_t count) {
  bool post = false;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < count && !local.empty(); ++i) shared_.push_back(local.pop());
    queued_.store(shared_.size(), std::memory_order_relaxed);
    if (drains_ < max_drains_) {
      ++drains_;
      post = true;
    }
  }
  if (post) asio::post(context_, [this] { drain(nullptr, {}); });
}

void run_queue::drain(runnable* first, local_queue local) {
  drain_context here{this, first, true, std::move(local)};
  struct enter {
    drain_context* outer;
    explicit enter(drain_context* inner) : outer(current_drain) { current_drain = inner; }
    ~enter() { current_drain = outer; }
  };
  {
    enter scope(&here);
    for (int resumed = 0; resumed < kResumesPerDrain; ++resumed) {
      runnable* r = here.next;
      if (r) {
        here.next = nullptr;
      } else if (!here.local.empty()) {
        r = here.local.pop();
      } else {
        r = pop_shared_or_retire(max_drains_ > 1);
        if (!r) return;
      }
      r->run_scheduled();
    }
  }
  // Yield: this drain comes back after whatever else is queued on the io_context (it still
  // counts as one of the running drains), starting with the slot's actor. defer, not post: it
  // wakes no idle thread, so a busy chain of actors (a ping-pong pair, a ring) keeps its thread
  // and its caches instead of hopping threads every turn.
  // The local queue goes with it (its actors keep this thread), unless the shared queue has
  // entries: then it goes behind them, or actors that keep making each other ready would
  // never let this drain reach them (with one thread, never let anyone).
  if (!here.local.empty() && queued_.load(std::memory_order_relaxed) != 0) {
    spill(here.local, here.local.items.size());
  }
  runnable* next = here.next;
  if (here.local.empty()) {
    asio::defer(context_, [this, next] { drain(next, {}); });
  } else {
    asio::defer(context_, [this, next, local = std::move(here.local)]() mutable {
      drain(next, std::move(local));
    });
  }
}

run_queue::caller_turn::caller_turn(run_queue& queue)
    : queue_(queue), here_{&queue, nullptr, false}, entered_(current_drain == nullptr) {
  if (entered_) current_drain = &here_;
}

void run_queue::caller_turn::run() {
  if (!entered_) return;
  for (int resumed = 0; here_.next && resumed < kResumesPerDrain; ++resumed) {
    runnable* r = here_.next;
    here_.next = nullptr;
    r->run_scheduled();
  }
}

run_queue::caller_turn::~caller_turn() {
  if (!entered_) return;
  current_drain = nullptr;
  if (here_.next) queue_.push_shared(here_.next);
}

void run_queue::clear() {
  std::lock_guard lock(mutex_);
  shared_.clear();
  queued_.store(0, std::memory_order_relaxed);
}

}  // namespace thespian::detail
