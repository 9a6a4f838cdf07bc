// link: how a multi-process system that does not host an actor itself reaches the admin that
// creates actors — the creating program's system (which also starts the admin process and
// reaps it), and each actor process's system (whose actor may create children).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "system/process/startup_method.hpp"
#include "core/endpoint.hpp"
#include "thespian/actor.hpp"
#include "thespian/address.hpp"
#include "thespian/capabilities.hpp"
#include "thespian/system_messages.hpp"

namespace thespian::detail {
class actor_cell;
class system_core;
}  // namespace thespian::detail

namespace thespian::detail::multiproc {

class link {
 public:
  // The creating program's side: starts the admin process by `method` and waits until it
  // listens. Throws ActorSystemStartupFailure saying why it could not.
  static std::unique_ptr<link> start_admin(system_core& core, process::startup_method method);
  // An actor process's side: the admin is already there.
  static std::unique_ptr<link> to_admin(system_core& core, std::uint64_t admin_system_id);
  ~link();

  // From outside (parent == nullptr): blocks until the actor runs in its own process, or throws
  // what creating it locally would (InvalidActorSpecification, NoCompatibleSystemForActor).
  // From an actor: returns the address at once; messages to it wait until the process listens.
  // `type` may be null only with a global name (the admin then resolves the type name itself,
  // after looking the name up).
  ActorAddress create(const actor_type* type, const std::string& type_name, Requirements req,
                      std::string global_name, actor_cell* parent);
  // The creating program's side: every actor process ends, then the admin; bounded in time.
  void shutdown();

  // From an actor (Actor::actor_system_shutdown): the admin ends every actor of the system.
  void request_system_shutdown();
  // What the admin keeps for the whole system. Dead letters of this process go to the admin,
  // which hands them to the system's handler (wherever it lives).
  void forward_dead_letter(const ActorAddress& to, Message message, const ActorAddress& sender);
  void set_dead_letter_handler(const ActorAddress& handler, bool start);
  // Blocking (the creating program's side): the admin's view of the whole system.
  SystemStatus status();
  // Blocking from outside (returns once the admin applied it); from an actor, a notice.
  void update_capability(std::string name, std::optional<CapabilityValue> value, bool wait);

  const ActorAddress& admin() const noexcept { return admin_; }

  struct admin_process;

 private:
  link(system_core& core, ActorAddress admin, std::unique_ptr<admin_process> process);

  system_core& core_;
  ActorAddress admin_;
  std::unique_ptr<admin_process> process_;  // null in actor processes
  std::shared_ptr<endpoint> control_;       // endpoint 0 (protocol.hpp), while the link lives
};

}  // namespace thespian::detail::multiproc
