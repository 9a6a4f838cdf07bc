// actor_cell: one live actor as the system sees it — its mailbox, its coroutine receive loop,
// its children, timers and counters, and its exit sequence. The cell is the endpoint behind
// the actor's address. deliver() and send() may be called from any thread; everything else
// runs on the actor's primary thread (the one running its loop at the time).
//
// The loop is not a coroutine that lives as long as the actor: an "activation" (one asio
// coroutine thread, see run()) starts when mail reaches an idle actor, handles what is there
// and ends. An idle actor therefore holds no coroutine frame at all, and creating one makes
// none. Only an activation suspended inside receive() (an ask, a timer) stays, parked in
// rare_state::waiter until the mail it waits for arrives.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "core/endpoint.hpp"
#include "core/mailbox.hpp"
#include "core/outbox.hpp"
#include "core/run_queue.hpp"
#include "core/spin_lock.hpp"
#include "thespian/actor.hpp"
#include "thespian/system_messages.hpp"

namespace thespian::detail {

class system_core;

// An actor's children by endpoint id, in creation order: a sorted vector of their addresses
// (ids mostly arrive in increasing order, so adding appends). The order's key is the child's
// endpoint id without its lowest bit (order_key): an exited child's entry becomes a tombstone
// that holds no reference and keeps only that key, in a borrowed address (see
// ActorAddress::borrow) whose pointer is the key shifted left by one, never dereferenced nor
// copied (the vector only moves its items); a borrowed address keeps the pointer's low bit
// for itself, and a child's id may use all 64 bits (a remote child's is random). Two ids may
// share a key: within one key, a child is told by its address. Tombstones are compacted away
// once they are half of it. 8 bytes a child (a map node took 64, an (id, address) pair 24
// with std::shared_ptr) and no allocation per child.
class child_list {
 public:
  void add(std::uint64_t id, const ActorAddress& child) {
    const std::uint64_t k = order_key(id);
    auto it = items_.end();
    if (!items_.empty() && key(items_.back()) >= k) {
      if (key(items_.back()) == k) {
        // Ids mostly increase: the next child often shares the last one's key (2n, 2n + 1),
        // whose entries are then the last few.
        while (it != items_.begin() && key(*(it - 1)) == k) --it;
      } else {
        it = find(k);
      }
      auto same_key_end = it;
      while (same_key_end != items_.end() && key(*same_key_end) == k) ++same_key_end;
      // Listed again (its own entry), else into a tombstone of its key.
      auto slot = std::find_if(it, same_key_end, [id](const ActorAddress& item) {
        return !gone(item) && item.endpoint()->id() == id;
      });
      if (slot == same_key_end) slot = std::find_if(it, same_key_end, gone);
      if (slot != same_key_end) {
        if (gone(*slot)) ++live_;
        *slot = child;
        return;
      }
      it = same_key_end;  // behind the children listed before it under its key
    }
    items_.emplace(it, child);
    ++live_;
  }
  // Removes `child` if it is listed under `id`.
  void remove(std::uint64_t id, const ActorAddress& child) {
    const std::uint64_t k = order_key(id);
    for (auto it = find(k); it != items_.end() && key(*it) == k; ++it) {
      if (gone(*it) || *it != child) continue;
      *it = tombstone(k);
      if (--live_ * 2 < items_.size()) {
        std::erase_if(items_, [](const ActorAddress& item) { return gone(item); });
      }
      return;
    }
  }
  bool empty() const noexcept { return live_ == 0; }
  std::size_t size() const noexcept { return live_; }
  template <class F>
  void for_each(F&& f) const {
    for (const ActorAddress& child : items_) {
      if (!gone(child)) f(child);
    }
  }
  void clear() noexcept {
    items_.clear();
    live_ = 0;
  }

 private:
  static bool gone(const ActorAddress& item) noexcept { return !item || item.borrowed(); }
  static std::uint64_t order_key(std::uint64_t id) noexcept { return id >> 1; }
  static std::uint64_t key(const ActorAddress& item) noexcept {
    return gone(item) ? reinterpret_cast<std::uintptr_t>(item.endpoint()) >> 1
                      : order_key(item.endpoint()->id());
  }
  static ActorAddress tombstone(std::uint64_t k) noexcept {
    return ActorAddress::borrow(reinterpret_cast<endpoint*>(static_cast<std::uintptr_t>(k) << 1));
  }
  std::vector<ActorAddress>::iterator find(std::uint64_t k) {
    return std::lower_bound(
        items_.begin(), items_.end(), k,
        [](const ActorAddress& item, std::uint64_t wanted) { return key(item) < wanted; });
  }

  std::vector<ActorAddress> items_;
  std::size_t live_ = 0;
};

class actor_cell final : public endpoint, public runnable {
 public:
  actor_cell(system_core& core, std::uint64_t id, const actor_type* type,
             Requirements requirements, ActorAddress parent, std::string global_name);
  ~actor_cell() override;

  // Binds the actor to this cell; mail that arrived before schedules its first activation.
  void start(std::unique_ptr<Actor> actor);
  // The same for an actor constructed in place in the cell's own allocation (see
  // system_core::spawn): the cell destroys it in place at exit and never frees it.
  void start_in_block(Actor* actor);
  // Before start(): an ActorExitRequest from outside this system is ignored (and logged). For
  // a system's own actors (a multi-process admin or logger), which end only with their system:
  // an actor that echoes whatever it gets must not take the admin down.
  void accept_exit_only_from_own_system() noexcept { exit_guarded_ = true; }
  // The constructor threw: the cell is born exited, so messages to it become dead letters.
  void mark_failed();
  // After the system's threads have stopped: drops the actor and its suspended loop.
  void abandon();

  bool deliver(envelope&& e) override;
  // Its block's size follows from its actor's type (cell_block.hpp).
  std::size_t pooled_block_bytes() const noexcept override;
  // All of them under one lock, or none (0) once the actor has exited.
  std::size_t deliver_some(envelope* items, std::size_t n) override;
  // The coroutine thread that runs the receive loop: the stack of asio frames (loop, receive(),
  // whatever receive awaits) that one actor executes, owned by whoever resumes it next.
  using loop_thread = asio::detail::awaitable_thread<asio::any_io_executor>;
  // Called by the loop, suspended waiting for mail, with the thread that was running it.
  void park(loop_thread* running);
  // The run queue resumes the parked activation, or starts one (it was scheduled by deliver,
  // start or a yield).
  void run_scheduled() override;

  // The system's list of live actors (system_core::live_head_): touched by the system only,
  // under its actors_mutex_. In the list: prev is set, or the cell is the list's head.
  struct live_link {
    actor_cell* prev = nullptr;
    actor_cell* next = nullptr;
  };
  live_link live;

  // --- for Actor's protected members (primary thread unless noted)
  const ActorAddress& address() const noexcept { return address_; }
  const std::string& global_name() const noexcept;
  // The registry's name of the type, unless the system named the actor (name_type).
  const std::string& type_name() const noexcept;
  // Before start(): the system's own actors (a multi-process admin or logger) go by a name of
  // the system's rather than the registry's; a copy is kept in rare_.
  void name_type(const std::string& name);
  const actor_type* type() const noexcept { return type_; }
  const Requirements& requirements() const noexcept;
  const ActorAddress& parent() const noexcept { return parent_; }
  // The actor was constructed in the cell's own allocation (system_core::spawn).
  bool actor_in_block() const noexcept { return actor_in_block_; }
  system_core& core() noexcept { return core_; }
  const system_core& core() const noexcept { return core_; }
  const Capabilities& capabilities();
  void send(const ActorAddress& to, Message message);  // any thread
  void adopt(const ActorAddress& child) { rare().children.add(child.endpoint()->id(), child); }
  asio::awaitable<std::optional<Message>> ask(ActorAddress to, Message message,
                                              std::chrono::nanoseconds timeout);
  void wakeup_after(std::chrono::nanoseconds delay, Message payload);
  void watch(int fd);
  void unwatch(int fd);
  // The actor's logger, made on first use (most actors never log): callable from any thread.
  Logger& logger(Actor& actor);

 private:
  // The body of deliver() and deliver_some(), inlined into both (actor_cell.cpp only): a single
  // send, the common case, makes one call fewer.
  inline std::size_t take_delivery(envelope* items, std::size_t n);
  // `co_await park_loop{this}` in a coroutine of the loop parks it until mail arrives. It
  // suspends through asio's "run after suspend" hook and keeps the loop's awaitable_thread in
  // rare_state::waiter: no initiation frame and no completion handler are made per wait, which
  // is what a ping-pong pair does on every message.
  struct park_loop {
    actor_cell* cell;
    loop_thread* operator()(asio::detail::awaitable_frame_base<asio::any_io_executor>* frame) const {
      cell->park(frame->detach_thread());
      return nullptr;
    }
  };
  park_loop parker() noexcept { return park_loop{this}; }

  // What the synchronous fast path (run_sync) leaves to a coroutine activation: the envelope it
  // took and could not finish without one.
  enum class first_step : std::uint8_t {
    handle,   // an internal kind or a control message: handle()
    receive,  // on_message() declined it: receive()
    recover,  // on_message() threw: recover()
  };
  // Handles mail with plain on_message() calls, no coroutine at all: what most messages of most
  // actors need. true: done (the actor went idle or yielded its turn; `this` may already run
  // elsewhere). false: `out` needs a coroutine activation, to start with `step`.
  bool run_sync(envelope& out, first_step& step, std::exception_ptr& error);
  // Sends of the running on_message(): the first to a target is delivered at once (a reply
  // costs nothing more), a second one in a row to the same target starts gathering.
  struct gathering;
  friend void flush_gathered_sends_here() noexcept;
  void gather(const ActorAddress& to, envelope&& e);
  void send_now(const ActorAddress& to, Message&& message);
  inline void flush_gathered() noexcept;
  // The rest of flush_gathered() (delivers and ends the gathering), out of line.
  [[gnu::noinline]] void flush_area(gather_area& area) noexcept;
  void flush_own(gather_area& area);            // the primary thread
  void flush_foreign_locked(gather_area& area);  // needs out_lock_
  // One activation of the receive loop: the bottom frame of an asio coroutine thread of its
  // own (an entry point, as co_spawn makes, without co_spawn's extra frames and hand-offs).
  // It starts with what run_sync handed over, handles mail until there is none, then ends
  // (or parks, for an actor that uses receive()).
  using activation = asio::awaitable<asio::detail::awaitable_thread_entry_point,
                                     asio::any_io_executor>;
  activation run(envelope first, first_step step, std::exception_ptr error);
  // No mail: the actor becomes idle and true is returned (the activation ends); false when
  // mail arrived since take_arrival looked.
  bool go_idle();
  // The next envelope (held back during an ask, or arrived); when there is none, the actor
  // goes idle under the same lock that found the mailbox empty, and false is returned (from
  // then on another thread may run the cell).
  bool next_or_idle(envelope& out);
  // Ends the turn after kMessagesPerTurn: the cell goes to the back of the shared run queue.
  void yield_turn();
  // The next envelope already in the mailbox, without waiting; false when there is none.
  bool take_arrival(envelope& out);
  // The next message held back during an ask; false when there is none.
  bool take_held(envelope& out) {
    return rare_ && rare_->held_next != rare_->held.size() && take_held_now(out);
  }
  bool take_held_now(envelope& out);
  // Next envelope from the mailbox, ignoring messages held back during an ask.
  asio::awaitable<envelope> next_arrival();
  asio::awaitable<void> handle(envelope e);
  asio::awaitable<void> invoke(const envelope& e);
  // receive() threw `error` on e: retry once, then return PoisonMessage to the sender.
  asio::awaitable<void> recover(const envelope& e, std::exception_ptr error);
  asio::awaitable<void> exit_sequence(envelope request);
  void forget_child(const ActorAddress& child);
  // A watched descriptor object owns a duplicate of the actor's fd, so the actor's own fd
  // stays the actor's to close. `armed` tags its pending wait: an envelope of an older wait
  // (before an unwatch and a new watch of the same fd number) is recognised and dropped.
  struct watched_descriptor {
    std::shared_ptr<asio::posix::stream_descriptor> descriptor;
    std::uint64_t armed = 0;
  };
  // Waits (once) for `fd` to be readable; then a watch envelope goes to the mailbox.
  void arm_watch(int fd, watched_descriptor& watched);
  void stop_watching();
  void finish_exit();
  // start() and start_in_block(): the actor runs from here on (owned, as in_block says).
  void bind(Actor* actor, bool in_block);
  // Destroys the actor (deletes it, or only destroys it when it lives in the cell's block).
  void drop_actor() noexcept;
  // The bound actor (has_actor_): behind the cell in its block, or where rare_ says.
  inline Actor& actor() const noexcept;
  ActorStatus status() const;

  // The order below keeps the cell small (an idle actor is mostly its cell): the flags, the
  // two spin locks and the two primary-thread counters share one 16-byte group instead of a
  // padded word each. test/unit/system/system_core_test.cpp pins the size.
  system_core& core_;
  const actor_type* type_;  // its name is the registry's (or rare_state::type_name)
  const ActorAddress parent_;
  ActorAddress address_;  // set by start(), cleared at exit (it refers to this cell)

  // Where the receive loop is. idle: no activation (the first delivery schedules one); parked:
  // rare_->waiter holds a suspended activation and the first delivery schedules it; scheduled:
  // it is in the run queue (only the queue touches the waiter); running: anything else
  // (handling mail, or suspended in something receive() awaits), so deliveries only queue.
  enum class loop_state : std::uint8_t { running, idle, parked, scheduled };

  // Shared with senders on other threads.
  mutable spin_lock mutex_;
  // Sends from another thread of the actor while on_message() gathers (see out_).
  spin_lock out_lock_;
  std::atomic<loop_state> state_{loop_state::running};  // changed to parked/scheduled under mutex_
  std::atomic<bool> has_mail_{false};  // incoming_ is not empty; set and cleared under mutex_
  bool busy_ = false;  // the receiver is past its first messages: new chunks start large
  bool exited_ = false;
  // Written under mutex_ by the delivery that found the actor idle (see direct_).
  bool has_direct_ = false;
  // Primary thread only (whoever runs the cell: the run queue's hand-off orders the writes),
  // so they may share a byte.
  // on_message() declined a message at least once: the actor awaits in receive(), so a busy
  // one keeps its activation parked rather than starting one per message.
  bool uses_receive_ : 1 = false;
  bool exiting_ : 1 = false;
  bool exit_guarded_ : 1 = false;
  // A live actor is outstanding work of the io_context even while it has no activation (what
  // tells simpleSystemBase's waits that something may still happen), from start() to exit:
  // counted with on_work_started/finished (a work guard object took 24 bytes of every cell).
  bool alive_ : 1 = false;
  bool actor_in_block_ : 1 = false;  // the actor was constructed in the cell's block
  // The actor is bound (start) and not dropped yet: actor() is valid.
  bool has_actor_ : 1 = false;
  // The actor is not at its usual place right behind the cell in the block (kActorOffset):
  // an actor of its own allocation, or a block sized to fit a large one. rare_->actor says
  // where. No pointer in the cell for what the block's layout says.
  bool actor_in_rare_ : 1 = false;
  // rare_->waiter holds the parked activation (set by park(), under mutex_; taken by
  // run_scheduled): an actor that never uses receive() never parks, so it lives in rare_.
  bool has_waiter_ : 1 = false;
  // Messages handed to the actor, and sent by on_message() on the primary thread (a plain
  // counter: no atomic add per message): 32 bits here, the rest in rare_ (see count()).
  std::uint32_t received_ = 0;
  std::uint32_t sent_here_ = 0;

  // A busy actor's incoming_ keeps an emptied chunk when it has no mail (its spare: the next
  // message needs no allocation); an idle young one has none.
  mail_queue incoming_;
  union {
    // The envelope of a delivery that found the actor idle. An idle actor has no mail at all
    // (mailbox, batch and held messages are empty), so this one is the oldest: the activation
    // it schedules takes it first, without a lock, and it never goes through the chunk chain
    // (one lock section, an append, a swap and a pop fewer per message for a ping-pong or a
    // ring). Written under mutex_ by that delivery only; then the scheduled activation's alone.
    // It shares its bytes with batch_, which is empty (no chunk) whenever the actor is idle:
    // has_direct_ says which of the two is alive (see put_direct and take_direct).
    envelope direct_;
    // Primary thread only: taken from incoming_ in one lock, not handled yet.
    mail_queue batch_{};
  };
  // Sends from other threads of the actor (and the coroutine path); sends from on_message()
  // on the primary thread count in sent_here_.
  std::atomic<std::uint64_t> sent_{0};
  // Where the on_message() call running now (on the primary thread) gathers, while it holds
  // gathered sends: a send from another thread of the actor goes to its `foreign` outbox
  // (under out_lock_), delivered behind them.
  // Set by the primary thread alone; cleared by it under out_lock_ (once `foreign` is empty).
  std::atomic<gather_area*> out_{nullptr};

  // Primary thread only.
  // What most actors never use, in an allocation of its own made on first use (or at
  // construction, for requirements and a global name): an idle actor is mostly its cell, so
  // this keeps the cell small.
  struct rare_state {
    Requirements requirements;
    std::string global_name;
    std::vector<envelope> held;  // arrived while an ask was pending; [held_next, end) handled next
    std::size_t held_next = 0;
    child_list children;
    std::map<std::uint64_t, std::shared_ptr<asio::steady_timer>> wakeups;
    std::map<int, watched_descriptor> watched;  // by the actor's fd
    std::uint64_t next_tag = 0;
    // The system's capabilities as this actor last saw them (a shared snapshot, not a copy).
    std::shared_ptr<const Capabilities> caps;
    std::uint64_t caps_generation = 0;
    std::optional<loop_thread> waiter;  // see has_waiter_
    Actor* actor = nullptr;  // see actor_in_rare_
    // A name given by the system (its own actors'), instead of the registry's for type_.
    std::string type_name;
    // What the 32-bit counters in the cell carried over (see count()).
    std::uint64_t received_base = 0;
    std::uint64_t sent_base = 0;
  };
  rare_state& rare() {
    if (!rare_) rare_ = std::make_unique<rare_state>();
    return *rare_;
  }
  std::unique_ptr<rare_state> rare_;

  // Counts one more in `low` (received_ or sent_here_). When it wraps to 0 (2^32 counted),
  // 2^31 moves to `base` in rare_ and the low part restarts at 2^31, so it never reads as a
  // "young" actor's again (an increment and a rarely taken branch per message).
  void count(std::uint32_t& low, std::uint64_t rare_state::*base) {
    if (++low == 0) [[unlikely]] carry(low, base);
  }
  [[gnu::noinline]] void carry(std::uint32_t& low, std::uint64_t rare_state::*base) {
    rare().*base += std::uint64_t{1} << 31;
    low = std::uint32_t{1} << 31;
  }
  std::uint64_t total(std::uint32_t low, std::uint64_t rare_state::*base) const {
    return (rare_ ? rare_.get()->*base : 0) + low;
  }
  // batch_ and direct_ share their bytes: the idle actor's first delivery puts the envelope
  // over the (empty) batch; the activation takes it and leaves an empty batch behind.
  void put_direct(envelope&& e) noexcept {
    new (&direct_) envelope(std::move(e));
    has_direct_ = true;
  }
  void take_direct(envelope& out) noexcept {
    out = std::move(direct_);
    // Moved from, direct_ owns nothing (see mail_queue::pop): its lifetime ends here.
    new (&batch_) mail_queue();
    has_direct_ = false;
  }
};

}  // namespace thespian::detail
