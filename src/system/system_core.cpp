// Implements system_core: creation and placement of actors, global names, dead letters,
// capabilities and their re-checks, correlated asks from outside, status, and the ordered
// shutdown (children before parents, then the threads).
#include "system/system_core.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <thread>
#include <typeinfo>
#include <utility>

#include <absl/strings/str_cat.h>
#include <asio/steady_timer.hpp>

#include "core/actor_cell.hpp"
#include "core/actor_registry.hpp"
#include "core/cell_block.hpp"
#include "core/reply_endpoint.hpp"
#include "system/external_endpoint.hpp"
#include "system/multiproc/link.hpp"
#include "system/multiproc/node.hpp"
#include "system/multiproc/system_route.hpp"
#include "system/process/process_launcher.hpp"
#include "thespian/detail/small_pool.hpp"
#include "thespian/errors.hpp"

namespace thespian::detail {
namespace {

std::atomic<std::uint64_t> next_system_id{0};

// The cell of an actor of `type` in a block of its own (cell_block.hpp), with room behind it
// for the actor when the type is made in place; the cell says how the block is given back.
template <class... Args>
endpoint_ref<actor_cell> make_cell_in_block(const actor_type& type, Args&&... args) {
  const std::size_t bytes = cell_block_bytes(type);
  void* block = small_allocate(bytes);
  try {
    return make_endpoint_at<actor_cell>(block, std::forward<Args>(args)...);
  } catch (...) {
    small_deallocate(block, bytes);
    throw;
  }
}

constexpr const char* kVersion = "0.1.0";

Capabilities default_capabilities(std::string_view base) {
  return Capabilities{
      {"Thespian Generation", std::string("3.10")},
      {"Thespian Version", std::string(kVersion)},
      {"Thespian ActorSystem Name", std::string(base)},
      {"Thespian ActorSystem Version", std::int64_t{1}},
      // Actors of the multi-process bases run on an io_context of their own process, always
      // driven; simpleSystemBase runs only inside calls, and in-process Thespian has no watch.
      {"Thespian Watch Supported", base.starts_with("multiproc")},
      {"C++ Standard", std::int64_t{__cplusplus}},
  };
}

std::size_t thread_count_from(const Capabilities& caps) {
  auto it = caps.find("Thread Count");
  if (it != caps.end()) {
    if (const auto* n = std::get_if<std::int64_t>(&it->second); n && *n > 0) {
      return static_cast<std::size_t>(*n);
    }
    if (const auto* d = std::get_if<double>(&it->second); d && *d >= 1) {
      return static_cast<std::size_t>(*d);
    }
    throw ActorSystemStartupFailure("capability 'Thread Count' must be a positive number, not '" +
                                    to_string(it->second) + "'");
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

std::string describe_exception(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return demangle(typeid(e)) + ": " + e.what();
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return type ? demangle(*type) : std::string("unknown exception");
  }
}

// A correlated ask from outside: completes exactly once, with the reply, nullopt on timeout,
// or an error when the system shuts down first.
struct system_core::pending_ask {
  pending_ask(ask_key k, ask_callback callback) : key(k), done(std::move(callback)) {}
  const ask_key key;  // where it sits in asks_
  endpoint_ref<reply_endpoint> reply;
  ask_callback done;
  std::atomic<bool> finished{false};

  // Exactly one caller wins; the winner completes the handler.
  bool finish(std::exception_ptr error, std::optional<Message> result) {
    if (finished.exchange(true)) return false;
    ask_callback callback = std::move(done);
    callback(error, std::move(result));
    return true;
  }
};

bool is_multiproc_base(std::string_view base) {
  return base == "multiprocQueueBase" || base == "multiprocTCPBase" || base == "multiprocUDPBase";
}

// A client's own route. A TCP or UDP one reserves its port here (no thread may start yet: see the
// constructor) and binds it in start().
std::uint64_t new_client_id(std::string_view base) {
  const auto kind = multiproc::route_kind_of_base(base);
  return multiproc::has_port(kind)
             ? multiproc::reserve_port_route(kind, asio::ip::address_v4::loopback())
             : multiproc::new_system_id(kind);
}

process_role role_for(std::string_view base, process_role asked) {
  if (asked != process_role::in_process) return asked;
  return is_multiproc_base(base) ? process_role::client : process_role::in_process;
}

system_core::system_core(std::string_view base, Capabilities caps, SystemOptions options,
                         process_role role, std::uint64_t system_id,
                         std::uint64_t endpoint_base)
    : role_(role_for(base, role)),
      id_(system_id != 0 ? system_id
          : role_ == process_role::client ? new_client_id(base)
                                          : next_system_id.fetch_add(1) + 1),
      base_(base),
      options_(std::move(options)),
      log_(std::make_shared<log_hub>(options_)),
      // An actor process's (member) is the locking default, not 1: with 1, asio keeps what a
      // handler posts in a queue private to that handler until it returns, and a blocking send
      // inside the actor's handler runs the io_context (channel::send), which must see what the
      // handler posted before (a connect, the rest of a write).
      context_(base == "multithreadBase" ? static_cast<int>(thread_count_from(caps))
               : role_ == process_role::member ? ASIO_CONCURRENCY_HINT_DEFAULT
                                               : 1),
      runs_(context_, base == "multithreadBase" ? thread_count_from(caps) : 1),
      caller_runs_(base == "multithreadBase" || base == "simpleSystemBase") {
  next_endpoint_id_.store(endpoint_base);
  if (base != "simpleSystemBase" && base != "multithreadBase" && !is_multiproc_base(base)) {
    throw ActorSystemStartupFailure(
        "unknown or unavailable system base '" + std::string(base) +
        "' (this build has simpleSystemBase, multithreadBase, multiprocQueueBase, "
        "multiprocTCPBase and multiprocUDPBase)");
  }
  Capabilities current = default_capabilities(base);
  if (base == "multiprocTCPBase") {
    current["Admin Port"] = std::int64_t{1900};
    current["Admin Routing"] = false;
    current["Outbound Only"] = false;
  }
  if (base == "multiprocUDPBase") current["Admin Port"] = std::int64_t{1029};
  for (auto& [name, value] : caps) current[name] = value;
  if (base == "multiprocTCPBase") {
    // Outbound Only implies Admin Routing (BASES.md); both read as booleans from here on.
    const auto how = multiproc::routing_of(current);
    current["Admin Routing"] = how.via_admin;
    current["Outbound Only"] = how.outbound_only;
  }
  if (role_ == process_role::client) {
    // Before this system starts any thread: the forkserver must be forked while there is none.
    const auto method = process::default_startup_method();
    current["Process Startup Method"] = std::string(process::name_of(method));
  }
  if (role_ == process_role::member) {
    // An actor process: its main thread runs its one actor (actor_process.cpp).
    driver_ = make_caller_driver(context_);
  } else if (is_multiproc_base(base)) {
    // One thread: the client has only external endpoints, the admin and logger their actor.
    driver_ = make_multithread_driver(context_, 1);
  } else if (base == "multithreadBase") {
    const std::size_t threads = thread_count_from(caps);
    current["Thread Count"] = static_cast<std::int64_t>(threads);  // what runs, as an integer
    driver_ = make_multithread_driver(context_, threads);
  } else {
    driver_ = make_simple_driver(context_, options_.simple_run_limit);
  }
  caps_ = std::make_shared<const Capabilities>(std::move(current));
  external_ = make_endpoint<external_endpoint>(*this, next_endpoint_id());
}

system_core::~system_core() {
  shutdown();
  driver_.reset();
}

void system_core::start() {
  if (role_ != process_role::client) return;
  auto& transport = multiproc::node::instance();
  transport.attach(id_, shared_from_this());
  try {
    const auto method = process::parse_startup_method(
        std::get<std::string>(capabilities_snapshot()->at("Process Startup Method")));
    link_ = multiproc::link::start_admin(*this, *method);
  } catch (...) {
    transport.detach(id_);
    shutdown();
    throw;
  }
}

void system_core::leave_admin_running() {
  if (role_ == process_role::client && link_) link_->leave_running();
}

void system_core::join_admin(std::uint64_t admin_system_id, std::uint64_t control_id) {
  link_ = multiproc::link::to_admin(*this, admin_system_id, control_id);
}

endpoint_ref<actor_cell> system_core::make_cell(const actor_type& type,
                                                   const std::string& type_name, Requirements req,
                                                   ActorAddress parent, std::string global_name,
                                                   std::uint64_t endpoint_id,
                                                   std::unique_ptr<Actor>& actor) {
  auto cell = make_cell_in_block(type, *this, endpoint_id, &type, std::move(req),
                                 std::move(parent), std::move(global_name));
  cell->name_type(type_name);
  actor = type.make();
  return cell;
}

ActorAddress system_core::host_actor(const actor_type& type, const std::string& type_name,
                                     Requirements req, std::string global_name,
                                     ActorAddress parent, std::uint64_t endpoint_id,
                                     bool system_actor) {
  std::unique_ptr<Actor> actor;
  endpoint_ref<actor_cell> cell;
  try {
    cell = make_cell(type, type_name, std::move(req), std::move(parent), std::move(global_name),
                     endpoint_id, actor);
  } catch (...) {
    throw InvalidActorSpecification("actor type '" + type_name +
                                    "' could not be created: its constructor threw " +
                                    describe_exception(std::current_exception()));
  }
  {
    std::lock_guard lock(actors_mutex_);
    link_live(*cell);
  }
  const ActorAddress address(cell);
  if (system_actor) cell->accept_exit_only_from_own_system();
  remember_endpoint(cell);  // frames from other processes find it from now on
  cell->start(std::move(actor));
  return address;
}

void system_core::log(LogLevel level, std::string_view text) const {
  if (!log_->enabled(level)) return;
  log_->write(LogRecord{level, "system:" + std::to_string(id_), std::string(text),
                        std::chrono::system_clock::now()});
}

void system_core::ensure_running(std::string_view what) const {
  if (shut_down_.load()) {
    throw ActorSystemFailure(std::string(what) + ": the actor system (" + base_ +
                             ") has been shut down");
  }
}

void system_core::send(const ActorAddress& from, const ActorAddress& to, Message message) {
  if (!to) {
    throw InvalidActorAddress("cannot send a " + message.type_name() +
                              " message to the null ActorAddress");
  }
  envelope e{std::move(message), from, envelope_kind::user, 0};
  if (!to.endpoint()->deliver(std::move(e))) dead_letter(to, std::move(e));
}

void system_core::send_then_run(const ActorAddress& from, const ActorAddress& to,
                                Message message) {
  if (!caller_runs_) {
    send(from, to, std::move(message));
    return;
  }
  run_queue::caller_turn turn(runs_);
  send(from, to, std::move(message));
  turn.run();
}

void system_core::dead_letter(const ActorAddress& to, envelope&& e) {
  dead_letters_.fetch_add(1, std::memory_order_relaxed);
  if (link_ && !e.message.is<DeadEnvelope>() && !shut_down_.load()) {
    // The system's handler is the admin's business: it may live in any process.
    try {
      link_->forward_dead_letter(to, std::move(e.message), e.sender);
      return;
    } catch (const std::exception& error) {
      log(LogLevel::warning, std::string("a dead letter could not reach the admin: ") +
                                 error.what());
      return;
    }
  }
  ActorAddress handler;
  {
    std::lock_guard lock(dead_letter_mutex_);
    handler = dead_letter_handler_;
  }
  if (handler && handler != to && !e.message.is<DeadEnvelope>()) {
    envelope wrapped{DeadEnvelope{to, std::move(e.message)}, e.sender, envelope_kind::user, 0};
    if (handler.endpoint()->deliver(std::move(wrapped))) return;
    e.message = wrapped.message.as<DeadEnvelope>().dead_message;
  }
  log(LogLevel::info, "dead letter discarded: a " + e.message.type_name() + " message to " +
                          to.to_string() + " from " + e.sender.to_string());
}

void system_core::set_dead_letter_handler(const ActorAddress& handler, bool start) {
  bool tell_admin = false;
  {
    std::lock_guard lock(dead_letter_mutex_);
    if (start) {
      dead_letter_handler_ = handler;
      tell_admin = true;
    } else if (dead_letter_handler_ == handler) {
      dead_letter_handler_ = ActorAddress{};
      tell_admin = true;
    }
  }
  if (link_ && tell_admin && !shut_down_.load()) link_->set_dead_letter_handler(handler, start);
}

ActorAddress system_core::create_actor(const actor_type& type, Requirements req,
                                       std::string global_name, actor_cell* parent) {
  const std::string& type_name = actor_type_name(type);
  if (link_) {
    return link_->create(&type, type_name, std::move(req), std::move(global_name), parent);
  }
  if (global_name.empty()) return spawn(type, type_name, std::move(req), {}, parent);
  // Held across the construction, so concurrent creates of one name yield one actor.
  std::lock_guard lock(names_mutex_);
  if (auto it = names_.find(global_name); it != names_.end()) return it->second;
  ActorAddress created = spawn(type, type_name, std::move(req), global_name, nullptr);
  names_.emplace(std::move(global_name), created);
  return created;
}

ActorAddress system_core::create_actor(std::string_view type_name, Requirements req,
                                       std::string global_name, const std::string& source_hash,
                                       actor_cell* parent) {
  if (!source_hash.empty()) {
    throw InvalidActorSourceHash("no loaded source has hash '" + source_hash + "'");
  }
  if (link_ && !global_name.empty()) {
    // The admin keeps the names: an existing name is returned without resolving the type.
    return link_->create(find_actor_type(type_name), std::string(type_name), std::move(req),
                         std::move(global_name), parent);
  }
  if (!global_name.empty()) {
    std::lock_guard lock(names_mutex_);
    if (auto it = names_.find(global_name); it != names_.end()) return it->second;
  }
  const actor_type* type = find_actor_type(type_name);
  if (!type) {
    throw InvalidActorSpecification("no actor type is registered under the name '" +
                                    std::string(type_name) + "' (use THESPIAN_ACTOR)");
  }
  return create_actor(*type, std::move(req), std::move(global_name), parent);
}

ActorAddress system_core::spawn(const actor_type& type, const std::string& type_name,
                                Requirements req, std::string global_name, actor_cell* parent) {
  if (has_placement_rule(type)) {
    if (auto unmet = unmet_requirement(type, *capabilities_snapshot(), req)) {
      throw NoCompatibleSystemForActor("no compatible actor system for actor type '" +
                                       type_name + "': it " + *unmet);
    }
  }
  // Moved, not copied, from here on: each copy of an address is an atomic increment and a
  // decrement later, ~9 of which a creation made.
  ActorAddress parent_address = parent ? parent->address() : ActorAddress{};
  const bool named = !global_name.empty();  // the name itself moves into the cell
  // One block for the counts, the cell and the actor (cell_block.hpp); the actor is
  // constructed in it once the cell exists, so that a constructor that throws leaves a cell
  // born exited (its block then has unused room, freed with it).
  const bool in_block = actor_in_cell_block(type);
  endpoint_ref<actor_cell> cell =
      make_cell_in_block(type, *this, next_endpoint_id(), &type, std::move(req),
                         std::move(parent_address), std::move(global_name));
  void* room = reinterpret_cast<char*>(cell.get()) + kActorOffset;
  std::unique_ptr<Actor> actor;
  Actor* actor_in_block = nullptr;
  try {
    if (in_block) {
      actor_in_block = type.make_at(room);
    } else {
      actor = type.make();
    }
  } catch (...) {
    const std::string why = describe_exception(std::current_exception());
    if (!parent || named) {
      throw InvalidActorSpecification("actor type '" + type_name +
                                      "' could not be created: its constructor threw " + why);
    }
    log(LogLevel::warning, "child actor of type '" + type_name + "' of " + parent->describe() +
                               " failed in its constructor: " + why);
    cell->mark_failed();
    ActorAddress dead(cell);
    envelope e{ChildActorExited{dead}, dead, envelope_kind::user, 0};
    parent->deliver(std::move(e));
    return dead;
  }
  {
    std::lock_guard lock(actors_mutex_);
    link_live(*cell);
  }
  // Taken before start(): from then on the actor may run, and even exit, on another thread.
  actor_cell* const created = cell.get();
  ActorAddress address(std::move(cell));
  if (in_block) {
    created->start_in_block(actor_in_block);
  } else {
    created->start(std::move(actor));
  }
  if (parent && !named) parent->adopt(address);
  return address;
}

void system_core::actor_exited(actor_cell& cell) {
  if (!cell.global_name().empty()) {
    std::lock_guard lock(names_mutex_);
    auto it = names_.find(cell.global_name());
    if (it != names_.end() && it->second.endpoint() == &cell) names_.erase(it);
  }
  set_dead_letter_handler(cell.address(), false);
  {
    // The cell's own address (cleared after this) still holds it.
    std::lock_guard lock(actors_mutex_);
    actor_cell::live_link& link = cell.live;
    if (link.prev || live_head_ == &cell) {
      (link.prev ? link.prev->live.next : live_head_) = link.next;
      if (link.next) link.next->live.prev = link.prev;
      link = {};
      --live_count_;
    }
  }
  driver_->notify();
}

void system_core::link_live(actor_cell& cell) {
  cell.live = {nullptr, live_head_};
  if (live_head_) live_head_->live.prev = &cell;
  live_head_ = &cell;
  ++live_count_;
}

std::size_t system_core::actor_count() const {
  std::lock_guard lock(actors_mutex_);
  return live_count_;
}

std::vector<endpoint_ref<actor_cell>> system_core::live_cells() const {
  std::lock_guard lock(actors_mutex_);
  std::vector<endpoint_ref<actor_cell>> cells;
  cells.reserve(live_count_);
  // Oldest first (the list is newest first): a parent comes before its children.
  for (actor_cell* c = live_head_; c; c = c->live.next) {
    cells.push_back(endpoint_ref<actor_cell>::share(c));
  }
  std::reverse(cells.begin(), cells.end());
  return cells;
}

Capabilities system_core::capabilities() const { return *capabilities_snapshot(); }

std::shared_ptr<const Capabilities> system_core::capabilities_snapshot() const {
  std::lock_guard lock(caps_mutex_);
  return caps_;
}

void system_core::update_capability(std::string name, std::optional<CapabilityValue> value) {
  if (link_) {
    // The admin applies it to every process (this one too, through its control endpoint);
    // the creating program waits for that, so that a creation right after it sees the change.
    link_->update_capability(name, value, role_ == process_role::client);
  }
  apply_capability(std::move(name), std::move(value));
}

void system_core::apply_capability(std::string name, std::optional<CapabilityValue> value) {
  Capabilities now;
  {
    std::lock_guard lock(caps_mutex_);
    now = *caps_;
    auto it = now.find(name);
    if (value) {
      if (it != now.end() && it->second == *value) return;  // same value: no-op
      now[name] = *value;
    } else {
      if (it == now.end()) return;
      now.erase(it);
    }
    caps_generation_.fetch_add(1);
    caps_ = std::make_shared<const Capabilities>(now);
  }
  for (const auto& cell : live_cells()) {
    if (unmet_requirement(*cell->type(), now, cell->requirements())) {
      envelope e{ActorExitRequest{true}, external_ ? ActorAddress(external_) : ActorAddress{},
                 envelope_kind::user, 0};
      cell->deliver(std::move(e));
    }
  }
}

endpoint_ref<external_endpoint> system_core::new_external_endpoint() {
  return make_endpoint<external_endpoint>(*this, next_endpoint_id());
}

void system_core::start_async_ask(const ActorAddress& to, Message message,
                                  std::chrono::nanoseconds timeout, ask_callback done) {
  if (!to) {
    done(std::make_exception_ptr(InvalidActorAddress("async_ask to the null ActorAddress")),
         std::nullopt);
    return;
  }
  if (shut_down_.load()) {
    done(std::make_exception_ptr(ActorSystemFailure("async_ask: the actor system (" + base_ +
                                                    ") has been shut down")),
         std::nullopt);
    return;
  }
  const auto deadline = deadline_after(timeout);
  std::shared_ptr<pending_ask> ask;
  {
    std::lock_guard lock(asks_mutex_);
    // Checked again under the lock: shutdown() empties asks_ under it, after setting the flag.
    if (!shut_down_.load()) {
      ask = std::make_shared<pending_ask>(ask_key{deadline, ++next_ask_sequence_},
                                          std::move(done));
      asks_.emplace(ask->key, ask);
      arm_ask_timer_locked(deadline);
    }
  }
  if (!ask) {
    done(std::make_exception_ptr(ActorSystemFailure("async_ask: the actor system (" + base_ +
                                                    ") has been shut down")),
         std::nullopt);
    return;
  }
  std::weak_ptr<system_core> weak_core = weak_from_this();
  // The reply endpoint holds the ask weakly: asks_ owns it until it is answered or expires.
  std::weak_ptr<pending_ask> weak_ask = ask;
  ask->reply = make_endpoint<reply_endpoint>(
      id_, next_endpoint_id(), [weak_ask, weak_core](envelope&& e) {
        auto pending = weak_ask.lock();
        if (pending && pending->finish(nullptr, std::move(e.message))) {
          if (auto core = weak_core.lock()) core->ask_finished(*pending);
        }
      });
  envelope e{std::move(message), ActorAddress(ask->reply), envelope_kind::user, 0};
  bool delivered = false;
  try {
    delivered = to.endpoint()->deliver(std::move(e));
  } catch (...) {
    // The request could not even leave (an unregistered type, a frame over the limit): that is
    // the ask's one outcome. Throwing from here as well would give the caller two, and an
    // asio initiation that throws ends the program.
    ask->reply->close();
    if (ask->finish(std::current_exception(), std::nullopt)) ask_finished(*ask);
    return;
  }
  if (!delivered) {
    dead_letter(to, std::move(e));
    if (ask->reply->close() && ask->finish(nullptr, std::nullopt)) ask_finished(*ask);
  }
  if (base_ == "simpleSystemBase") {
    driver_->wait_until([ask] { return ask->finished.load(); }, deadline);
    driver_->run_until_quiet();
  }
}

void system_core::ask_finished(const pending_ask& ask) {
  std::shared_ptr<pending_ask> keep;  // released after the lock
  std::lock_guard lock(asks_mutex_);
  auto it = asks_.find(ask.key);
  if (it == asks_.end()) return;
  keep = std::move(it->second);
  asks_.erase(it);
}

void system_core::arm_ask_timer_locked(std::chrono::steady_clock::time_point deadline) {
  if (ask_timer_due_ && *ask_timer_due_ <= deadline) return;
  ask_timer_due_ = deadline;
  ask_timer_.expires_at(deadline);  // cancels a wait for a later deadline
  std::weak_ptr<system_core> weak_core = weak_from_this();
  ask_timer_.async_wait([weak_core](const std::error_code& ec) {
    if (auto core = weak_core.lock()) core->expire_asks(ec);
  });
}

void system_core::expire_asks(const std::error_code& ec) {
  if (ec == asio::error::operation_aborted) return;  // re-armed earlier, or shutting down
  std::vector<std::shared_ptr<pending_ask>> expired;
  {
    std::lock_guard lock(asks_mutex_);
    ask_timer_due_.reset();
    const auto now = std::chrono::steady_clock::now();
    while (!asks_.empty() && asks_.begin()->first.first <= now) {
      expired.push_back(std::move(asks_.begin()->second));
      asks_.erase(asks_.begin());
    }
    if (!asks_.empty() && !shut_down_.load()) arm_ask_timer_locked(asks_.begin()->first.first);
  }
  // A reply that raced the deadline wins if it closed the endpoint first.
  for (const auto& ask : expired) {
    if (ask->reply && ask->reply->close()) ask->finish(nullptr, std::nullopt);
  }
}

SystemStatus system_core::status() {
  if (role_ == process_role::client && link_) return link_->status();
  driver_->run_until_quiet();
  SystemStatus s;
  s.admin_address = "local:" + std::to_string(id_);
  s.base = base_;
  s.capabilities = capabilities();
  {
    std::lock_guard lock(names_mutex_);
    for (const auto& [name, address] : names_) s.global_names.emplace(name, address);
  }
  {
    std::lock_guard lock(dead_letter_mutex_);
    s.dead_letter_handler = dead_letter_handler_;
  }
  s.actor_count = actor_count();
  return s;
}

void system_core::request_exit(bool top_level_only) {
  std::vector<endpoint_ref<actor_cell>> targets;
  {
    std::lock_guard lock(actors_mutex_);
    for (actor_cell* cell = live_head_; cell; cell = cell->live.next) {
      // A child whose parent is alive (here) is taken down by that parent. typeid, not
      // dynamic_cast: actor_cell is final, and this runs once per actor at shutdown.
      const endpoint* parent = cell->parent().endpoint();
      if (top_level_only && parent && typeid(*parent) == typeid(actor_cell) &&
          (static_cast<const actor_cell*>(parent)->live.prev || live_head_ == parent) &&
          &static_cast<const actor_cell*>(parent)->core() == this) {
        continue;
      }
      targets.push_back(endpoint_ref<actor_cell>::share(cell));
    }
  }
  for (const auto& cell : targets) {
    envelope e{ActorExitRequest{true}, ActorAddress(external_), envelope_kind::user, 0};
    cell->deliver(std::move(e));
  }
}

void system_core::begin_shutdown() {
  if (role_ == process_role::member && link_) {
    // An actor process is one actor of a larger system: the admin takes the whole system down.
    link_->request_system_shutdown();
    return;
  }
  if (shut_down_.exchange(true)) return;
  request_exit(true);
}

void system_core::shutdown() {
  std::call_once(shutdown_once_, [this] {
    // The admin is asked while this system still takes replies.
    if (role_ == process_role::client && link_) link_->shutdown();
    shut_down_.store(true);
    const auto deadline = deadline_after(options_.shutdown_timeout);
    // Top-level actors first, recursively (their children exit before them); then whatever
    // a non-recursive exit left behind.
    for (int round = 0; round < 2 && actor_count() > 0; ++round) {
      request_exit(round == 0);
      driver_->wait_until([this] { return actor_count() == 0; },
                          round == 0 ? deadline : deadline_after(std::chrono::seconds(1)));
    }
    if (actor_count() > 0) {
      log(LogLevel::error, absl::StrCat(actor_count(), " actors did not exit within the "
                                                       "shutdown timeout; they are abandoned"));
    }
    std::vector<std::shared_ptr<pending_ask>> asks;
    {
      std::lock_guard lock(asks_mutex_);
      for (auto& [key, ask] : asks_) asks.push_back(ask);
      asks_.clear();
      ask_timer_.cancel();
      ask_timer_due_.reset();
    }
    for (const auto& ask : asks) {
      ask->reply->close();
      ask->finish(std::make_exception_ptr(ActorSystemFailure(
                      "async_ask: the actor system (" + base_ + ") shut down before a reply")),
                  std::nullopt);
    }
    external_->close();
    driver_->stop();
    runs_.clear();  // its entries are parked cells, released just below
    // No thread runs actors any more: release what the abandoned ones still hold while the
    // io_context their coroutines belong to is alive.
    // Out of the list first: abandon() drops the address that keeps each cell alive.
    const std::vector<endpoint_ref<actor_cell>> abandoned = live_cells();
    {
      std::lock_guard lock(actors_mutex_);
      for (const auto& cell : abandoned) cell->live = {};
      live_head_ = nullptr;
      live_count_ = 0;
    }
    for (const auto& cell : abandoned) cell->abandon();
    if (role_ == process_role::client) {
      multiproc::node::instance().detach(id_);
      multiproc::release_route(id_);  // reserved but never bound, if start() failed early
    }
  });
}

}  // namespace thespian::detail
