// Implements run_queue (see run_queue.hpp): drains, the per-drain "next" slot and lane (local
// queue), stealing from a lane whose drain is stuck in one long actor, the shared queue.
#include "core/run_queue.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <vector>

#include <asio/defer.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

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

// A drain's lane beyond this many actors gives its older half to the shared queue, where the
// other threads take them.
constexpr std::size_t kLocalLimit = 4096;

// A thief takes at most this many actors at once (half of what may be taken, up to this).
constexpr std::size_t kStealMost = 64;

// How often the watch timer looks at the lanes while actors wait in them: a drain that began
// no actor between two looks (stuck in one for 1-2 ms) is stolen from. Far above an ordinary
// actor's run (a coordinator sending to 64 workers runs ~10 us), so that the actors of a busy
// drain keep its thread and caches, and rare enough to cost nothing measurable: each look
// wakes an idle thread, and at 100 us the looks made fork-join ~30% slower on this loaded
// VM (chameneos ~20%). Well below a task worth running in parallel (100 ms: 1-2%).
constexpr auto kWatchPeriod = std::chrono::milliseconds(1);

}  // namespace

// One pool drain's local queue: the owner pushes at the tail and pops at the head; a thief
// takes from the head too, and only below `mark`, so the actors the owner's current actor
// makes ready stay with it, and the ones left keep their order. The owner pushes without the
// lock (only it writes the tail and the slots at and past it, and a thief reads only slots
// below the mark, which the owner publishes with a release store); its pop and a thief's
// take, which both move the head, go under a spin lock (uncontended: one exchange), and a
// thief comes only when a drain has been stuck in one actor for a millisecond or more.
struct alignas(64) run_queue::lane {
  spin_lock lock;
  // Capacity a power of two; only the owner replaces it (under the lock, which thieves
  // hold while they read it).
  std::vector<runnable*> ring;
  // Absolute positions. head: moved under the lock (the owner's pop, a thief's take), read
  // without it as a hint. tail: the owner's alone.
  std::atomic<std::uint64_t> head{0};
  std::atomic<std::uint64_t> tail{0};
  // The tail when the owner's current actor began (only written while the lane held actors):
  // thieves take only below it.
  std::atomic<std::uint64_t> mark{0};
  // Actors the owner began while its lane held others: progress, for a thief deciding whether
  // the owner is stuck.
  std::atomic<std::uint64_t> runs{0};
  std::uint64_t watched_runs = 0;  // `runs` at the watch timer's last look (the watcher's)
  // The owner's: it pushed since it last found the lane empty (so that a drain whose lane
  // stays empty, a ping-pong's, looks at one flag per actor and not at head and tail).
  bool filled = false;
  bool in_use = false;             // under run_queue::mutex_

  bool empty() const noexcept {
    return head.load(std::memory_order_relaxed) == tail.load(std::memory_order_relaxed);
  }
  // What a thief could take if the owner is stuck (a hint).
  bool stealable() const noexcept {
    return mark.load(std::memory_order_relaxed) > head.load(std::memory_order_relaxed);
  }
  // The owner's, without the lock. The head is read with acquire: a slot a thief read is
  // written again only after its take.
  void push(runnable* r) {
    const std::uint64_t t = tail.load(std::memory_order_relaxed);
    if (t - head.load(std::memory_order_acquire) >= ring.size()) [[unlikely]] grow();
    ring[t & (ring.size() - 1)] = r;
    tail.store(t + 1, std::memory_order_release);
  }
  // Out of line, so that a push saves no registers for it. Under the lock: a thief may be
  // reading the ring; the head it sees is then the real one.
  [[gnu::noinline]] void grow() {
    std::lock_guard guard(lock);
    const std::uint64_t h = head.load(std::memory_order_relaxed);
    const std::uint64_t t = tail.load(std::memory_order_relaxed);
    std::vector<runnable*> bigger(ring.empty() ? 64 : ring.size() * 2);
    for (std::uint64_t i = h; i != t; ++i) {
      bigger[i & (bigger.size() - 1)] = ring[i & (ring.size() - 1)];
    }
    ring.swap(bigger);
  }
  // The owner's: the oldest entry, or nullptr.
  runnable* pop() noexcept {
    if (empty()) return nullptr;
    std::lock_guard guard(lock);
    const std::uint64_t h = head.load(std::memory_order_relaxed);
    if (h == tail.load(std::memory_order_relaxed)) return nullptr;  // a thief took the rest
    head.store(h + 1, std::memory_order_release);
    return ring[h & (ring.size() - 1)];
  }
};

// The timer behind watch(): a separate object so that run_queue.hpp need not include Asio's
// timers.
struct run_queue::watcher {
  explicit watcher(asio::io_context& context) : timer(context) {}
  asio::steady_timer timer;
};

namespace {
thread_local run_queue::drain_context* current_drain = nullptr;
}  // namespace

// Out of line: inlined, the growth path made every schedule() (a ping-pong's hand-off
// included, which never gets here) save and restore registers, ~4 instructions a message.
[[gnu::noinline]] void run_queue::keep_local(lane& local, runnable* r) {
  local.push(r);
  const auto waiting = static_cast<std::size_t>(local.tail.load(std::memory_order_relaxed) -
                                                local.head.load(std::memory_order_relaxed));
  local.filled = stealing_;
  if (waiting > kLocalLimit) {
    spill(local, kLocalLimit / 2);
  } else if (waiting == 1 && stealing_) {
    // The lane was empty: the watch may have stopped. The fence pairs with on_watch()'s: it
    // sees this entry, or this look sees that it stopped.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!watching_.load(std::memory_order_relaxed)) watch();
  }
}

run_queue::run_queue(asio::io_context& context, std::size_t max_drains)
    : context_(context),
      max_drains_(max_drains == 0 ? 1 : max_drains),
      lanes_(std::make_unique<lane[]>(max_drains_)),
      stealing_(max_drains_ > 1),
      watcher_(std::make_unique<watcher>(context)) {}

run_queue::~run_queue() = default;

void run_queue::schedule(runnable* r) {
  drain_context* here = current_drain;
  if (here && here->owner == this) {
    // A hand-off from an actor this drain is running: it runs next, on this thread. An actor
    // already waiting in the slot moves to the drain's lane (a caller_turn's: to the shared
    // queue, where another thread may take it).
    runnable* previous = here->next;
    here->next = r;
    if (!previous) return;
    if (here->local) {
      keep_local(*here->local, previous);
      return;
    }
    // Another thread may take it: post a drain for it while one more may run.
    lane* posted;
    {
      std::lock_guard lock(mutex_);
      shared_.push_back(previous);
      queued_.store(shared_.size(), std::memory_order_relaxed);
      posted = claim_drain_locked();
    }
    if (posted) post_drain(posted);
    return;
  }
  push_shared(r);
}

run_queue::lane* run_queue::claim_drain_locked() {
  if (drains_ >= max_drains_) return nullptr;
  for (std::size_t i = 0; i < max_drains_; ++i) {
    if (!lanes_[i].in_use) {
      lanes_[i].in_use = true;
      ++drains_;
      return &lanes_[i];
    }
  }
  return nullptr;  // not reached: a retiring drain frees its lane with its count
}

void run_queue::post_drain(lane* local) {
  asio::post(context_, [this, local] { drain(local, nullptr); });
}

void run_queue::push_shared(runnable* r) {
  // From a drain of this queue (an actor yielding its turn), that drain takes the entry after
  // what is queued before it: no further drain is posted, so a yield wakes no idle thread and
  // the actor does not hop threads every turn.
  const bool drained_here = current_drain != nullptr && current_drain->owner == this &&
                            current_drain->local != nullptr;
  lane* posted = nullptr;
  {
    std::lock_guard lock(mutex_);
    shared_.push_back(r);
    queued_.store(shared_.size(), std::memory_order_relaxed);
    if (!drained_here) posted = claim_drain_locked();
  }
  if (posted) post_drain(posted);
}

runnable* run_queue::steal(lane& victim, lane& mine) {
  std::array<runnable*, kStealMost> taken;
  std::size_t count = 0;
  {
    std::lock_guard guard(victim.lock);
    const std::uint64_t h = victim.head.load(std::memory_order_relaxed);
    const std::uint64_t t = victim.tail.load(std::memory_order_acquire);
    const std::uint64_t m = std::min(victim.mark.load(std::memory_order_acquire), t);
    if (m <= h) return nullptr;
    count = std::min<std::size_t>((m - h + 1) / 2, kStealMost);
    for (std::size_t i = 0; i < count; ++i) taken[i] = victim.ring[(h + i) & (victim.ring.size() - 1)];
    victim.head.store(h + count, std::memory_order_release);
  }
  if (count > 1) {
    for (std::size_t i = 1; i < count; ++i) mine.push(taken[i]);
    mine.filled = true;  // this thread owns `mine`: a third thread may take from it in turn
  }
  return taken[0];
}

runnable* run_queue::pop_shared_or_retire(lane& mine, bool linger) {
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
        mine.in_use = false;
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

void run_queue::watch() {
  if (watching_.exchange(true, std::memory_order_acq_rel)) return;
  for (std::size_t i = 0; i < max_drains_; ++i) {
    lanes_[i].watched_runs = lanes_[i].runs.load(std::memory_order_relaxed);
  }
  watcher_->timer.expires_after(kWatchPeriod);
  watcher_->timer.async_wait([this](const std::error_code& error) {
    if (!error) on_watch();
  });
}

void run_queue::on_watch() {
  bool waiting = false;
  lane* stuck = nullptr;
  for (std::size_t i = 0; i < max_drains_; ++i) {
    lane& l = lanes_[i];
    if (l.empty()) continue;
    waiting = true;
    if (!stuck && l.stealable() && l.runs.load(std::memory_order_relaxed) == l.watched_runs) {
      stuck = &l;
    }
  }
  if (!waiting) {
    watching_.store(false, std::memory_order_release);
    // Pairs with keep_local()'s fence: an owner that filled an empty lane meanwhile either
    // saw the watch stop (and armed it) or is seen here.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (std::size_t i = 0; i < max_drains_; ++i) {
      if (!lanes_[i].empty()) {
        watch();
        break;
      }
    }
    return;
  }
  for (std::size_t i = 0; i < max_drains_; ++i) {
    lanes_[i].watched_runs = lanes_[i].runs.load(std::memory_order_relaxed);
  }
  watcher_->timer.expires_after(kWatchPeriod);
  watcher_->timer.async_wait([this](const std::error_code& error) {
    if (!error) on_watch();
  });
  if (!stuck) return;
  // This thread is idle (it runs a timer's handler): it becomes a drain that starts with what
  // it takes. No drain may start when every one runs; the next look tries again.
  lane* mine;
  {
    std::lock_guard lock(mutex_);
    mine = claim_drain_locked();
  }
  if (mine) drain(mine, steal(*stuck, *mine));
}

void run_queue::spill(lane& local, std::size_t count) {
  // Under the lane's lock, then the queue's: never both at once (a thief holds a lane's
  // lock alone too).
  std::vector<runnable*> moved;
  {
    std::lock_guard guard(local.lock);
    const std::uint64_t h = local.head.load(std::memory_order_relaxed);
    const std::uint64_t t = local.tail.load(std::memory_order_relaxed);
    count = std::min<std::size_t>(count, static_cast<std::size_t>(t - h));
    moved.resize(count);
    for (std::size_t i = 0; i < count; ++i) moved[i] = local.ring[(h + i) & (local.ring.size() - 1)];
    local.head.store(h + count, std::memory_order_release);
  }
  lane* posted;
  {
    std::lock_guard lock(mutex_);
    shared_.insert(shared_.end(), moved.begin(), moved.end());
    queued_.store(shared_.size(), std::memory_order_relaxed);
    posted = claim_drain_locked();
  }
  if (posted) post_drain(posted);
}

void run_queue::drain(lane* local, runnable* first) {
  drain_context here{this, first, local};
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
      } else if (!(r = local->pop())) {
        local->filled = false;
        r = pop_shared_or_retire(*local, max_drains_ > 1);
        if (!r) return;
      }
      if (local->filled && !local->empty()) {
        // Others wait behind this actor: a thief may take them if it runs long.
        const std::uint64_t began = local->runs.load(std::memory_order_relaxed) + 1;
        local->mark.store(local->tail.load(std::memory_order_relaxed), std::memory_order_release);
        local->runs.store(began, std::memory_order_relaxed);
      }
      r->run_scheduled();
    }
  }
  // Yield: this drain comes back after whatever else is queued on the io_context (it still
  // counts as one of the running drains), starting with the slot's actor. defer, not post: it
  // wakes no idle thread, so a busy chain of actors (a ping-pong pair, a ring) keeps its thread
  // and its caches instead of hopping threads every turn.
  // The lane stays with it (its actors keep this thread), unless the shared queue has
  // entries: then they go behind them, or actors that keep making each other ready would
  // never let this drain reach them (with one thread, never let anyone).
  if (!local->empty() && queued_.load(std::memory_order_relaxed) != 0) {
    spill(*local, local->tail.load(std::memory_order_relaxed) -
                      local->head.load(std::memory_order_relaxed));
  }
  runnable* next = here.next;
  asio::defer(context_, [this, local, next] { drain(local, next); });
}

run_queue::caller_turn::caller_turn(run_queue& queue)
    : queue_(queue), here_{&queue, nullptr, nullptr}, entered_(current_drain == nullptr) {
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
