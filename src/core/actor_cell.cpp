// Implements actor_cell: the mailbox hand-off, the receive loop with its retry-then-poison
// failure rule, in-actor asks, wakeups, and the exit sequence (children first, then the
// actor's own receive, then dead letters for whatever is left).
#include "core/actor_cell.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_state.hpp>

#include "core/actor_registry.hpp"
#include "core/cell_block.hpp"
#include "core/reply_endpoint.hpp"
#include "system/system_core.hpp"
#include "thespian/errors.hpp"

namespace thespian::detail {
namespace {

// Handled without a pause between them before the loop yields its thread to other actors,
// so one busy actor cannot starve the rest (or keep simpleSystemBase from going quiet).
constexpr int kMessagesPerTurn = 64;

// An actor that has handled this many messages keeps its activation parked when its mailbox
// runs dry (resuming a parked one is cheaper than starting one, and a busy actor will need it
// again soon); a younger one ends it, so the many actors that handle a message or two and then
// sit idle hold no coroutine frame.
constexpr std::uint64_t kParkAfter = 16;

// The cell whose on_message() runs on this thread (run_sync), the target of its last send,
// and the outbox it gathers into (one per thread: a nested call flushes the outer's first).
thread_local actor_cell* gathering_cell = nullptr;
thread_local const endpoint* last_target = nullptr;
thread_local gather_area thread_area;

}  // namespace

std::size_t actor_cell::pooled_block_bytes() const noexcept { return cell_block_bytes(*type_); }

// An actor constructed in its cell's block sits kActorOffset behind the cell (cell_block.hpp);
// bind() checks it for each actor, and one elsewhere is found through rare_.
inline Actor& actor_cell::actor() const noexcept {
  if (actor_in_rare_) [[unlikely]] return *rare_->actor;
  return *std::launder(reinterpret_cast<Actor*>(
      reinterpret_cast<char*>(const_cast<actor_cell*>(this)) + kActorOffset));
}

struct actor_cell::gathering {
  actor_cell* outer;
  explicit gathering(actor_cell* cell) noexcept : outer(gathering_cell) {
    // Nested (simpleSystemBase runs other actors inside a blocking call of this one): what
    // the outer call gathered goes first, since the nested run may wait for it.
    if (outer) outer->flush_gathered();
    gathering_cell = cell;
    last_target = nullptr;
  }
  ~gathering() {
    gathering_cell->flush_gathered();
    gathering_cell = outer;
    last_target = nullptr;
  }
  gathering(const gathering&) = delete;
  gathering& operator=(const gathering&) = delete;
};

actor_cell::actor_cell(system_core& core, std::uint64_t id, const actor_type* type,
                       Requirements requirements, ActorAddress parent, std::string global_name)
    : endpoint(core.id(), id),
      core_(core),
      type_(type),
      parent_(std::move(parent)) {
  if (!requirements.empty() || !global_name.empty()) {
    rare().requirements = std::move(requirements);
    rare().global_name = std::move(global_name);
  }
}

void actor_cell::name_type(const std::string& name) {
  if (name != actor_type_name(*type_)) rare().type_name = name;
}

const std::string& actor_cell::type_name() const noexcept {
  return rare_ && !rare_->type_name.empty() ? rare_->type_name : actor_type_name(*type_);
}

const std::string& actor_cell::global_name() const noexcept {
  static const std::string none;
  return rare_ ? rare_->global_name : none;
}

const Requirements& actor_cell::requirements() const noexcept {
  static const Requirements none;
  return rare_ ? rare_->requirements : none;
}

actor_cell::~actor_cell() {
  drop_actor();
  if (alive_) core_.context().get_executor().on_work_finished();
  if (has_direct_) {
    direct_.~envelope();
  } else {
    batch_.~mail_queue();
  }
}

void actor_cell::drop_actor() noexcept {
  if (!has_actor_) return;
  Actor* actor = &this->actor();
  has_actor_ = false;
  if (actor_in_block_) {
    actor->~Actor();  // the block is freed with the cell
  } else {
    delete actor;
  }
}

void actor_cell::start(std::unique_ptr<Actor> actor) { bind(actor.release(), false); }

void actor_cell::start_in_block(Actor* actor) { bind(actor, true); }

void actor_cell::bind(Actor* actor, bool in_block) {
  address_ = ActorAddress(endpoint_ref<endpoint>::share(this));
  actor_in_block_ = in_block;
  if (reinterpret_cast<char*>(actor) != reinterpret_cast<char*>(this) + kActorOffset) {
    rare().actor = actor;
    actor_in_rare_ = true;
  }
  has_actor_ = true;
  actor->cell_ = this;
  alive_ = true;
  core_.context().get_executor().on_work_started();
  bool ready;
  {
    std::lock_guard lock(mutex_);
    ready = !incoming_.empty();  // held since creation: the actor runs now
    state_.store(ready ? loop_state::scheduled : loop_state::idle, std::memory_order_relaxed);
  }
  if (ready) core_.runs().schedule(this);
}

Logger& actor_cell::logger(Actor& actor) {
  // Under the cell's send lock (rarely taken, never held while logging), made once: a
  // std::once_flag took a word of every cell for what most actors never do.
  std::lock_guard lock(out_lock_);
  if (!actor.log_) actor.log_ = std::make_unique<Logger>(core_.log(), address_.to_string());
  return *actor.log_;
}

void actor_cell::mark_failed() {
  std::lock_guard lock(mutex_);
  exited_ = true;
}

void actor_cell::abandon() {
  std::optional<loop_thread> loop;
  envelope direct;
  {
    std::lock_guard lock(mutex_);
    exited_ = true;
    if (has_waiter_) {
      loop.emplace(std::move(*rare_->waiter));
      rare_->waiter.reset();
      has_waiter_ = false;
    }
    incoming_.clear();
    if (has_direct_) take_direct(direct);
  }
  loop.reset();
  if (rare_) rare_->wakeups.clear();
  stop_watching();
  drop_actor();
  batch_.clear();
  if (rare_) {
    rare_->held.clear();
    rare_->held_next = 0;
    rare_->children.clear();
  }
  if (alive_) {
    alive_ = false;
    core_.context().get_executor().on_work_finished();
  }
  address_ = ActorAddress{};
}

[[gnu::always_inline]] inline std::size_t actor_cell::take_delivery(envelope* items,
                                                                    std::size_t n) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (exited_) return 0;
    const loop_state now = state_.load(std::memory_order_relaxed);
    std::size_t i = 0;
    if (now == loop_state::idle && n > 0) {
      // Idle: nothing is queued anywhere, so this is the oldest mail (see direct_).
      put_direct(std::move(items[0]));
      i = 1;
    }
    if (i < n) {
      const std::uint32_t first = busy_ ? mail_chunk::kLargest : mail_chunk::kFirst;
      for (; i < n; ++i) incoming_.push_back(std::move(items[i]), first);
      has_mail_.store(true, std::memory_order_relaxed);
    }
    if (now == loop_state::idle || now == loop_state::parked) {
      state_.store(loop_state::scheduled, std::memory_order_relaxed);
      wake = true;
    }
  }
  if (wake) core_.runs().schedule(this);
  return n;
}

bool actor_cell::deliver(envelope&& e) {
  // One envelope: the same path as a gathered run (e stays the caller's when refused).
  return take_delivery(&e, 1) == 1;
}

std::size_t actor_cell::deliver_some(envelope* items, std::size_t n) {
  // A gathered run's senders are borrowed: the last one holds the reference for all (they are
  // handled, dead-lettered or dropped in order, so it goes last; the one place that takes mail
  // out of order, a recursive exit waiting for its children, and the asks that hold mail back,
  // make what they keep hold its own). deliver() gets none: only
  // an outbox delivers gathered envelopes, and only through here.
  if (n > 0) own_sender(items[n - 1]);
  return take_delivery(items, n);
}

void actor_cell::run_scheduled() {
  // Scheduled: neither deliver() nor the loop touches the waiter until it is resumed here.
  state_.store(loop_state::running, std::memory_order_relaxed);
  // The activation may end the actor and release this cell, and once run_sync() is done
  // another thread may be running it: nothing below touches `this` after either.
  system_core& core = core_;
  const std::uint64_t id = this->id();
  try {
    if (has_waiter_) {
      has_waiter_ = false;
      loop_thread loop(std::move(*rare_->waiter));
      rare_->waiter.reset();
      loop.launch();  // runs on this thread until it parks again (moving `loop` out), or ends
      return;
    }
    envelope first;
    first_step step = first_step::handle;
    std::exception_ptr error;
    if (run_sync(first, step, error)) return;
    loop_thread loop(run(std::move(first), step, std::move(error)), core.context().get_executor(),
                     asio::cancellation_slot(), asio::cancellation_state());
    loop.launch();
  } catch (...) {
    core.log(LogLevel::critical, "the receive loop of actor #" + std::to_string(id) +
                                     " failed: " + describe_exception(std::current_exception()));
  }
}

bool actor_cell::run_sync(envelope& out, first_step& step, std::exception_ptr& error) {
  if (!has_actor_) return true;
  // Where the actor is, found once: it stays there until it is dropped (has_actor_).
  Actor& actor = this->actor();
  int handled = 0;
  while (has_actor_) {
    if (!next_or_idle(out)) return true;
    if (out.kind != envelope_kind::user || out.message.is_control()) {
      step = first_step::handle;
      return false;
    }
    count(received_, &rare_state::received_base);
    try {
      bool handled_here;
      {
        gathering sends(this);
        handled_here = actor.on_message(out.message, out.sender);
      }
      if (!handled_here) {
        step = first_step::receive;
        return false;
      }
    } catch (...) {
      error = std::current_exception();
      step = first_step::recover;
      return false;
    }
    if (++handled == kMessagesPerTurn) {
      yield_turn();
      return true;
    }
  }
  return true;
}

void actor_cell::yield_turn() {
  {
    std::lock_guard lock(mutex_);
    state_.store(loop_state::scheduled, std::memory_order_relaxed);
  }
  core_.runs().schedule_later(this);
}

void actor_cell::forget_child(const ActorAddress& child) {
  const endpoint* e = child.endpoint();
  if (!e) return;
  if (!e || !rare_) return;
  rare_->children.remove(e->id(), child);
}

void actor_cell::send(const ActorAddress& to, Message message) {
  if (gathering_cell == this) {
    // The primary thread, inside on_message(): only it sets out_, so it reads it unlocked.
    if (to.endpoint() == last_target && last_target) {
      // Borrowed: no reference count moves between this thread and the target's per message.
      gather(to, envelope{std::move(message), ActorAddress::borrow(this), envelope_kind::user, 0});
      return;
    }
    if (out_) flush_gathered();  // sends to another target go in order
    send_now(to, std::move(message));
    count(sent_here_, &rare_state::sent_base);  // the primary thread's own counter
    last_target = to.endpoint();
    return;
  }
  if (out_.load(std::memory_order_acquire)) {
    // Another thread of the actor while on_message() gathers: a send that happens after one
    // of the gathered ones (the user synchronised with it) must queue behind it. A null out_
    // seen here means nothing gathered happened before this send, or it was delivered. The
    // primary thread delivers it at its next flush (at the latest when on_message returns):
    // this thread may not touch what that one gathers.
    std::unique_lock lock(out_lock_);
    if (gather_area* area = out_.load(std::memory_order_relaxed)) {
      if (!to) {
        lock.unlock();
        core_.send(address_, to, std::move(message));  // throws InvalidActorAddress
        return;
      }
      area->foreign.add(to, envelope{std::move(message), address_, envelope_kind::user, 0});
      area->has_foreign.store(true, std::memory_order_release);
      return;
    }
  }
  send_now(to, std::move(message));
  sent_.fetch_add(1, std::memory_order_relaxed);
}

void actor_cell::send_now(const ActorAddress& to, Message&& message) {
  // system_core::send, one call and one Message move shorter.
  if (!to) core_.send(address_, to, std::move(message));  // throws InvalidActorAddress
  envelope e{std::move(message), address_, envelope_kind::user, 0};
  if (!to.endpoint()->deliver(std::move(e))) core_.dead_letter(to, std::move(e));
}

void actor_cell::gather(const ActorAddress& to, envelope&& e) {
  gather_area* area = out_.load(std::memory_order_relaxed);
  if (!area) {
    area = &thread_area;
    out_.store(area, std::memory_order_release);
  } else if (area->has_foreign.load(std::memory_order_acquire)) [[unlikely]] {
    // The actor's other threads sent meanwhile, perhaps before this send: theirs go first.
    flush_own(*area);
    std::lock_guard lock(out_lock_);
    flush_foreign_locked(*area);
  }
  if (area->own.add(to, std::move(e))) {
    flush_own(*area);
    if (area->has_foreign.load(std::memory_order_acquire)) {
      std::lock_guard lock(out_lock_);
      flush_foreign_locked(*area);
    }
  }
}

void actor_cell::flush_own(gather_area& area) {
  sent_.fetch_add(area.own.size(), std::memory_order_relaxed);
  area.own.flush(
      [this](const ActorAddress& to, envelope&& e) { core_.dead_letter(to, std::move(e)); });
}

void actor_cell::flush_foreign_locked(gather_area& area) {
  if (!area.has_foreign.load(std::memory_order_relaxed)) return;
  area.has_foreign.store(false, std::memory_order_relaxed);
  sent_.fetch_add(area.foreign.size(), std::memory_order_relaxed);
  area.foreign.flush(
      [this](const ActorAddress& to, envelope&& e) { core_.dead_letter(to, std::move(e)); });
}

void actor_cell::flush_gathered() noexcept {
  // Inline: most on_message() calls gathered nothing (a reply, a single send).
  if (gather_area* area = out_.load(std::memory_order_relaxed)) [[unlikely]] flush_area(*area);
}

void actor_cell::flush_area(gather_area& area_ref) noexcept {
  gather_area* area = &area_ref;
  try {
    flush_own(*area);
  } catch (...) {
    core_.log(LogLevel::critical, describe() + " lost messages it sent: " +
                                      describe_exception(std::current_exception()));
  }
  // Under the lock, so that no other thread adds to `foreign` once it is delivered.
  std::lock_guard lock(out_lock_);
  try {
    flush_foreign_locked(*area);
  } catch (...) {
    core_.log(LogLevel::critical, describe() + " lost messages its other threads sent: " +
                                      describe_exception(std::current_exception()));
  }
  out_.store(nullptr, std::memory_order_relaxed);
}

void flush_gathered_sends_here() noexcept {
  if (gathering_cell) gathering_cell->flush_gathered();
  last_target = nullptr;
}

const Capabilities& actor_cell::capabilities() {
  const std::uint64_t generation = core_.capabilities_generation();
  rare_state& r = rare();
  if (generation != r.caps_generation || !r.caps) {
    r.caps = core_.capabilities_snapshot();
    r.caps_generation = generation;
  }
  return *r.caps;
}

void actor_cell::park(loop_thread* running) {
  bool ready;
  rare_state& r = rare();  // allocated outside the lock
  {
    std::lock_guard lock(mutex_);
    r.waiter.emplace(std::move(*running));  // leaves `running` empty: its pump returns
    has_waiter_ = true;
    ready = !incoming_.empty();  // arrived since take_arrival looked
    state_.store(ready ? loop_state::scheduled : loop_state::parked, std::memory_order_relaxed);
  }
  // Not resumed here: the loop is still inside this initiation, on its own stack.
  if (ready) core_.runs().schedule(this);
}

bool actor_cell::take_arrival(envelope& out) {
  if (batch_.pop(out)) return true;
  // A stale false only sends the loop to park(), which looks again under the lock.
  if (!has_mail_.load(std::memory_order_acquire)) return false;
  mail_chunk* done = batch_.take_exhausted();
  {
    std::lock_guard lock(mutex_);
    batch_.swap(incoming_);  // leaves incoming_ without a chunk: `done` is its spare
    has_mail_.store(false, std::memory_order_relaxed);
    if (done) incoming_.adopt(std::exchange(done, nullptr));
  }
  return batch_.pop(out);
}

bool actor_cell::take_held_now(envelope& out) {
  rare_state& r = *rare_;
  out = std::move(r.held[r.held_next++]);
  if (r.held_next == r.held.size()) {
    r.held.clear();
    r.held_next = 0;
  }
  return true;
}

asio::awaitable<envelope> actor_cell::next_arrival() {
  envelope e;
  while (!take_arrival(e)) co_await parker();
  co_return e;
}

bool actor_cell::go_idle() {
  // An actor going idle young will most likely stay idle: its (empty) mailbox buffers go, so
  // an idle actor holds none. batch_ is ours alone; incoming_ is released under the lock.
  batch_.clear();
  mail_chunk* spare = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (!incoming_.empty()) return false;
    spare = incoming_.take_exhausted();
    state_.store(loop_state::idle, std::memory_order_relaxed);
  }
  mail_chunk::destroy(spare);
  return true;
}

bool actor_cell::next_or_idle(envelope& out) {
  if (has_direct_) {
    take_direct(out);
    return true;
  }
  if (take_held(out)) return true;
  if (!batch_.empty() && batch_.pop(out)) return true;  // empty(): inline, pop() is not
  // A young actor's chunks go when it goes idle (most actors handle a message or two and then
  // wait); a busy one keeps one as the spare, so that a message costs no allocation. batch_
  // must be settled before the lock: once idle, another thread may run the cell.
  const bool young = received_ < kParkAfter;
  mail_chunk* done = batch_.take_exhausted();
  mail_chunk* spare = nullptr;
  bool idle;
  {
    std::lock_guard lock(mutex_);
    idle = incoming_.empty();
    if (idle) {
      if (young) spare = incoming_.take_exhausted();
      state_.store(loop_state::idle, std::memory_order_relaxed);
    } else {
      batch_.swap(incoming_);  // leaves incoming_ without a chunk
      has_mail_.store(false, std::memory_order_relaxed);
    }
    // The emptied chunk stays as incoming_'s spare, unless it has one or the actor goes idle
    // young.
    if (done && !incoming_.has_chunk() && !(idle && young)) {
      incoming_.adopt(std::exchange(done, nullptr));
    }
    busy_ = !young;
  }
  // From here on, when idle, nothing of the cell is touched.
  if (done) mail_chunk::destroy(done);
  if (spare) mail_chunk::destroy(spare);
  return !idle && batch_.pop(out);
}

actor_cell::activation actor_cell::run(envelope first, first_step step,
                                       std::exception_ptr error) {
  // Holds the cell while an exit may drop its last other reference (its own address_).
  endpoint_ref<endpoint> keep;
  // What run_sync could not do without a coroutine comes first.
  switch (step) {
    case first_step::handle:
      if (first.message.is<ActorExitRequest>()) keep = endpoint_ref<endpoint>::share(this);
      co_await handle(std::move(first));
      break;
    case first_step::receive:
      uses_receive_ = true;
      try {
        co_await actor().receive(first.message, first.sender);
      } catch (...) {
        error = std::current_exception();
      }
      if (error) co_await recover(first, error);
      break;
    case first_step::recover:
      co_await recover(first, error);
      break;
  }
  int handled_this_turn = 1;
  while (has_actor_) {
    envelope e;
    if (!take_held(e) && !take_arrival(e)) {
      handled_this_turn = 0;  // waiting for mail ends the turn
      if (uses_receive_ && received_ >= kParkAfter) {
        co_await parker();
        continue;
      }
      // Ends the activation unless mail slipped in; deliveries after this start a new one
      // (on any thread, through run_sync): from here on this frame touches nothing of the cell.
      if (go_idle()) co_return;
      continue;
    }
    if (e.kind == envelope_kind::user && !e.message.is_control()) {
      // The common case, kept to on_message or a single coroutine call: receive, and only
      // on failure the retry-then-poison path.
      count(received_, &rare_state::received_base);
      std::exception_ptr failed;
      try {
        if (!actor().on_message(e.message, e.sender)) {
          uses_receive_ = true;
          co_await actor().receive(e.message, e.sender);
        }
      } catch (...) {
        failed = std::current_exception();
      }
      if (failed) co_await recover(e, failed);
    } else {
      if (!keep && e.message.is<ActorExitRequest>()) keep = endpoint_ref<endpoint>::share(this);
      co_await handle(std::move(e));
    }
    if (++handled_this_turn >= kMessagesPerTurn && has_actor_) {
      // Yield to other actors: a later activation, queued behind them, carries on.
      yield_turn();
      co_return;
    }
  }
}

asio::awaitable<void> actor_cell::handle(envelope e) {
  switch (e.kind) {
    case envelope_kind::wakeup:
      if (rare_) rare_->wakeups.erase(e.tag);
      co_await invoke(e);
      co_return;
    case envelope_kind::watch: {
      const int fd = e.message.as<WatchMessage>().ready.front();
      if (!rare_) co_return;
      auto& watched = rare_->watched;
      auto it = watched.find(fd);
      // Unwatched since it became readable (and perhaps watched anew: a later wait's tag).
      if (it == watched.end() || it->second.armed != e.tag) co_return;
      co_await invoke(e);
      // Level-triggered, but one message per readiness: wait again only once the actor had
      // its chance to read, unless it unwatched (or watched anew) meanwhile.
      if (auto again = watched.find(fd); again != watched.end() && again->second.armed == e.tag) {
        arm_watch(fd, again->second);
      }
      co_return;
    }
    case envelope_kind::ask_reply:
    case envelope_kind::ask_timeout:
    case envelope_kind::child_wait:
      co_return;  // stale: the ask or exit it belonged to is over
    case envelope_kind::user:
      break;
  }
  count(received_, &rare_state::received_base);
  if (e.message.is<StatusRequest>()) {
    if (e.sender) core_.send(address_, e.sender, status());
    co_return;
  }
  if (e.message.is<ActorExitRequest>()) {
    // Same system *and* this process: a routed system's actors share the admin's system id.
    if (exit_guarded_ && (!e.sender || e.sender.endpoint()->system_id() != core_.id() ||
                          !e.sender.endpoint()->in_this_process())) {
      core_.log(LogLevel::warning, describe() + " ignored an ActorExitRequest from " +
                                       e.sender.to_string() + ": it ends only with its system");
      co_return;
    }
    co_await exit_sequence(std::move(e));
    co_return;
  }
  if (const auto* exited = e.message.get<ChildActorExited>()) {
    forget_child(exited->child);
  }
  co_await invoke(e);
}

asio::awaitable<void> actor_cell::invoke(const envelope& e) {
  std::exception_ptr error;
  try {
    if (!actor().on_message(e.message, e.sender)) {
      co_await actor().receive(e.message, e.sender);
    }
  } catch (...) {
    error = std::current_exception();
  }
  if (error) co_await recover(e, error);
}

asio::awaitable<void> actor_cell::recover(const envelope& e, std::exception_ptr error) {
  const std::string first = describe_exception(error);
  if (e.message.is<ActorExitRequest>()) {
    core_.log(LogLevel::warning, describe() + " threw while handling ActorExitRequest (it exits "
                                              "anyway): " + first);
    co_return;
  }
  core_.log(LogLevel::info, describe() + " threw on a " + e.message.type_name() +
                                " message; retrying once: " + first);
  try {
    if (!actor().on_message(e.message, e.sender)) {
      co_await actor().receive(e.message, e.sender);
    }
    co_return;
  } catch (...) {
    error = std::current_exception();
  }
  const std::string details = describe_exception(error);
  if (e.message.is<PoisonMessage>() || !e.sender) {
    core_.log(LogLevel::warning, describe() + " failed twice on a " + e.message.type_name() +
                                     " message; not returned to its sender: " + details);
    co_return;
  }
  core_.log(LogLevel::warning, describe() + " failed twice on a " + e.message.type_name() +
                                   " message; returned as PoisonMessage: " + details);
  core_.send(address_, e.sender, PoisonMessage{e.message, details});
}

asio::awaitable<std::optional<Message>> actor_cell::ask(ActorAddress to, Message message,
                                                        std::chrono::nanoseconds timeout) {
  if (!to) throw InvalidActorAddress("ask to the null address from " + describe());
  const std::uint64_t tag = ++rare().next_tag;
  endpoint_weak<actor_cell> weak_self = endpoint_ref<actor_cell>::share(this);
  auto reply = make_endpoint<reply_endpoint>(
      core_.id(), core_.next_endpoint_id(), [weak_self, tag](envelope&& e) {
        if (auto self = weak_self.lock()) {
          self->deliver(envelope{std::move(e.message), std::move(e.sender),
                                 envelope_kind::ask_reply, tag});
        }
      });
  auto timer = std::make_shared<asio::steady_timer>(core_.context(), timeout);
  timer->async_wait([weak_self, reply, tag](const std::error_code& ec) {
    if (ec || !reply->close()) return;
    if (auto self = weak_self.lock()) {
      self->deliver(envelope{Message{}, ActorAddress{}, envelope_kind::ask_timeout, tag});
    }
  });
  envelope request{std::move(message), ActorAddress(reply), envelope_kind::user, 0};
  sent_.fetch_add(1, std::memory_order_relaxed);
  if (!to.endpoint()->deliver(std::move(request))) {
    core_.dead_letter(to, std::move(request));
    timer->cancel();
    reply->close();
    co_return std::nullopt;  // the target is gone: no reply can come
  }
  for (;;) {
    envelope e = co_await next_arrival();
    if (e.kind == envelope_kind::ask_reply && e.tag == tag) {
      timer->cancel();
      co_return std::move(e.message);
    }
    if (e.kind == envelope_kind::ask_timeout && e.tag == tag) co_return std::nullopt;
    if (e.kind == envelope_kind::ask_reply || e.kind == envelope_kind::ask_timeout) continue;
    // Non-reentrant: handled after the ask. Kept with a reference of its own: a recursive exit
    // may handle a later ChildActorExited first, and that may be what held the sender.
    own_sender(e);
    rare().held.push_back(std::move(e));
  }
}

void actor_cell::wakeup_after(std::chrono::nanoseconds delay, Message payload) {
  const std::uint64_t tag = ++rare().next_tag;
  auto timer = std::make_shared<asio::steady_timer>(core_.context(), delay);
  rare().wakeups.emplace(tag, timer);
  endpoint_weak<actor_cell> weak_self = endpoint_ref<actor_cell>::share(this);
  timer->async_wait([weak_self, tag, wakeup = WakeupMessage{delay, std::move(payload)}](
                        const std::error_code& ec) mutable {
    if (ec) return;
    if (auto self = weak_self.lock()) {
      // Fails quietly once the actor has exited: a cancelled wakeup is not a dead letter.
      self->deliver(envelope{std::move(wakeup), self->address_, envelope_kind::wakeup, tag});
    }
  });
}

void actor_cell::watch(int fd) {
  const auto& caps = capabilities();
  const auto supported = caps.find("Thespian Watch Supported");
  if (supported == caps.end() || supported->second != CapabilityValue(true)) {
    throw ActorSystemFailure("watch(" + std::to_string(fd) + ") needs a base with \"Thespian "
                             "Watch Supported\" (the multi-process bases), not " +
                             core_.base());
  }
  if (rare().watched.contains(fd)) return;
  const int copy = fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    throw ActorSystemFailure("watch(" + std::to_string(fd) + "): not an open file descriptor (" +
                             std::strerror(fd < 0 ? EBADF : errno) + ")");
  }
  std::shared_ptr<asio::posix::stream_descriptor> watched;
  try {
    watched = std::make_shared<asio::posix::stream_descriptor>(core_.context(), copy);
  } catch (const std::system_error& e) {
    ::close(copy);
    throw ActorSystemFailure("watch(" + std::to_string(fd) + "): " + e.what());
  }
  arm_watch(fd, rare().watched[fd] = watched_descriptor{std::move(watched)});
}

void actor_cell::unwatch(int fd) {
  if (!rare_) return;
  auto it = rare_->watched.find(fd);
  if (it == rare_->watched.end()) return;
  std::error_code ignored;
  it->second.descriptor->close(ignored);  // its pending wait ends with operation_aborted
  rare_->watched.erase(it);
}

void actor_cell::arm_watch(int fd, watched_descriptor& watched) {
  const std::uint64_t tag = watched.armed = ++rare().next_tag;
  endpoint_weak<actor_cell> weak_self = endpoint_ref<actor_cell>::share(this);
  watched.descriptor->async_wait(asio::posix::stream_descriptor::wait_read,
                                 [weak_self, fd, tag](const std::error_code& ec) {
                                   if (ec) return;
                                   if (auto self = weak_self.lock()) {
                                     self->deliver(envelope{WatchMessage{{fd}}, self->address_,
                                                            envelope_kind::watch, tag});
                                   }
                                 });
}

void actor_cell::stop_watching() {
  std::error_code ignored;
  if (!rare_) return;
  for (auto& [fd, watched] : rare_->watched) watched.descriptor->close(ignored);
  rare_->watched.clear();
}

asio::awaitable<void> actor_cell::exit_sequence(envelope request) {
  exiting_ = true;
  // Handled last, after ChildActorExited messages that may have come behind it in its gathered
  // run (see below): it holds its sender itself.
  own_sender(request);
  const auto& exit_request = request.message.as<ActorExitRequest>();
  if (exit_request.recursive && rare_ && !rare_->children.empty()) {
    rare_->children.for_each([this](const ActorAddress& child) {
      envelope e{ActorExitRequest{true}, address_, envelope_kind::user, 0};
      child.endpoint()->deliver(std::move(e));  // a child already gone reports itself anyway
    });
    const std::uint64_t tag = ++rare_->next_tag;
    asio::steady_timer patience(core_.context(), core_.options().shutdown_timeout);
    endpoint_weak<actor_cell> weak_self = endpoint_ref<actor_cell>::share(this);
    patience.async_wait([weak_self, tag](const std::error_code& ec) {
      if (ec) return;
      if (auto self = weak_self.lock()) {
        self->deliver(envelope{Message{}, ActorAddress{}, envelope_kind::child_wait, tag});
      }
    });
    std::deque<envelope> later;
    while (!rare_->children.empty()) {
      envelope e = co_await next_arrival();
      if (e.kind == envelope_kind::child_wait && e.tag == tag) {
        core_.log(LogLevel::warning, describe() + " exits before all of its children did");
        break;
      }
      if (e.kind != envelope_kind::user) continue;  // wakeups are cancelled by the exit
      if (const auto* exited = e.message.get<ChildActorExited>()) {
        forget_child(exited->child);
        co_await invoke(e);
      } else {
        // Handled after ChildActorExited messages that arrived behind it: when it is part of a
        // gathered run, the one that held its sender's reference may be among those (and
        // gone), so it holds its own (an uncontended count: this path is rare).
        own_sender(e);
        later.push_back(std::move(e));
      }
    }
    patience.cancel();
    for (auto& e : later) rare_->held.push_back(std::move(e));
  }
  co_await invoke(request);
  finish_exit();
}

void actor_cell::finish_exit() {
  mail_queue left;
  std::optional<envelope> direct;  // none expected: an activation takes it first
  {
    std::lock_guard lock(mutex_);
    exited_ = true;
    left.swap(incoming_);
    has_mail_.store(false, std::memory_order_relaxed);
    if (has_direct_) take_direct(direct.emplace());
  }
  if (rare_) {
    for (auto& [tag, timer] : rare_->wakeups) timer->cancel();
    rare_->wakeups.clear();
  }
  stop_watching();
  // The actor goes first (its destructor may join helper threads that still send), then
  // whatever it never handled becomes dead letters, then the parent hears of it.
  drop_actor();
  // In arrival order: held back during an ask (from its read index: what is before it was
  // handled), then the batch taken from the mailbox, then what came after it.
  if (direct && direct->kind == envelope_kind::user) core_.dead_letter(address_, std::move(*direct));
  if (rare_) {
    for (std::size_t i = rare_->held_next; i < rare_->held.size(); ++i) {
      envelope& e = rare_->held[i];
      if (e.kind == envelope_kind::user) core_.dead_letter(address_, std::move(e));
    }
    rare_->held.clear();
    rare_->held_next = 0;
  }
  for (mail_queue* queue : {&batch_, &left}) {
    envelope e;
    while (queue->pop(e)) {
      if (e.kind == envelope_kind::user) core_.dead_letter(address_, std::move(e));
    }
    queue->clear();
  }
  if (parent_ && global_name().empty()) {
    envelope e{ChildActorExited{address_}, address_, envelope_kind::user, 0};
    if (!parent_.endpoint()->deliver(std::move(e))) core_.dead_letter(parent_, std::move(e));
  }
  if (rare_) rare_->children.clear();
  if (alive_) {
    alive_ = false;
    core_.context().get_executor().on_work_finished();
  }
  core_.actor_exited(*this);
  address_ = ActorAddress{};  // it refers to this cell: keeping it would keep the cell forever
}

ActorStatus actor_cell::status() const {
  ActorStatus s;
  s.address = address_;
  s.type_name = type_name();
  s.parent = parent_;
  if (rare_) {
    s.children.reserve(rare_->children.size());
    rare_->children.for_each([&s](const ActorAddress& child) { s.children.push_back(child); });
  }
  bool direct;
  {
    std::lock_guard lock(mutex_);
    direct = has_direct_;
    s.pending_messages = incoming_.size() + (direct ? 1 : 0);
  }
  if (!direct) s.pending_messages += batch_.size();  // they share their bytes
  if (rare_) {
    s.pending_messages += rare_->held.size() - rare_->held_next;
    s.pending_wakeups = rare_->wakeups.size();
  }
  s.received = total(received_, &rare_state::received_base);
  s.sent = sent_.load(std::memory_order_relaxed) + total(sent_here_, &rare_state::sent_base);
  return s;
}

}  // namespace thespian::detail
