// Actor's protected members: each forwards to the actor's cell, after checking that the actor
// has one (it has none while its constructor runs).
#include "thespian/actor.hpp"

#include "core/actor_cell.hpp"
#include "system/system_core.hpp"

namespace thespian {

Actor::Actor() = default;
Actor::~Actor() = default;

bool Actor::on_message(const Message&, const ActorAddress&) { return false; }

detail::actor_cell& Actor::cell() const {
  if (!cell_) {
    throw ActorSystemFailure(
        "an actor may not use the actor system from its constructor: it has no address yet");
  }
  return *cell_;
}

const ActorAddress& Actor::my_address() const { return cell().address(); }
const std::string& Actor::global_name() const { return cell().global_name(); }
const Capabilities& Actor::system_capabilities() const { return cell().capabilities(); }

void Actor::send(const ActorAddress& to, Message message) { cell().send(to, std::move(message)); }

ActorAddress Actor::create_actor_of(const detail::actor_type& type, Requirements req,
                                    std::string global_name) {
  auto& c = cell();
  return c.core().create_actor(type, std::move(req), std::move(global_name), &c);
}

ActorAddress Actor::create_actor(std::string_view type_name, Requirements req,
                                 std::string global_name, std::string source_hash) {
  auto& c = cell();
  return c.core().create_actor(type_name, std::move(req), std::move(global_name), source_hash,
                               &c);
}

asio::awaitable<std::optional<Message>> Actor::ask(const ActorAddress& to, Message message,
                                                   std::chrono::nanoseconds timeout) {
  return cell().ask(to, std::move(message), timeout);
}

void Actor::wakeup_after(std::chrono::nanoseconds delay, Message payload) {
  cell().wakeup_after(delay, std::move(payload));
}

void Actor::handle_dead_letters(bool start) {
  auto& c = cell();
  c.core().set_dead_letter_handler(c.address(), start);
}

void Actor::notify_on_system_registration_changes(bool) {
  cell();  // no convention on the in-process bases: there is nothing to report
}

void Actor::notify_on_source_availability(bool) { cell(); }

void Actor::register_source_authority() { cell(); }

void Actor::update_capability(std::string name, std::optional<CapabilityValue> value) {
  cell().core().update_capability(std::move(name), std::move(value));
}

void Actor::pre_register_remote_system(std::string, Capabilities) {
  cell().core().log(LogLevel::warning,
                    "pre_register_remote_system ignored: conventions need a multi-process base");
}

void Actor::deregister_remote_system(std::string) { cell(); }

std::string Actor::load_actor_source(const std::filesystem::path& shared_library) {
  cell();
  throw InvalidActorSourceHash("loadable sources are not supported on this base (" +
                               shared_library.string() + ")");
}

void Actor::unload_actor_source(const std::string& source_hash) {
  cell();
  throw InvalidActorSourceHash("no loaded source has hash '" + source_hash + "'");
}

void Actor::watch(int fd) { cell().watch(fd); }

void Actor::unwatch(int fd) { cell().unwatch(fd); }

void Actor::actor_system_shutdown() {
  // shutdown() waits for every actor, this one included, so it cannot run here.
  cell().core().begin_shutdown();
}

// Made on first use: most actors never log, and the address text costs a formatting and an
// allocation. Before the actor has an address, the logger writes nowhere.
Logger& Actor::log() {
  if (cell_) return cell_->logger(*this);
  static Logger nowhere;
  return nowhere;
}

}  // namespace thespian
