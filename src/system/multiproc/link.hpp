// link: how a multi-process system that does not host an actor itself reaches the admin that
// creates actors — the creating program's system (which also starts the admin process and
// reaps it), and each actor process's system (whose actor may create children).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "system/process/startup_method.hpp"
#include "thespian/actor.hpp"
#include "thespian/address.hpp"
#include "thespian/capabilities.hpp"

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
  ActorAddress create(const actor_type& type, const std::string& type_name, Requirements req,
                      std::string global_name, actor_cell* parent);
  // The creating program's side: every actor process ends, then the admin; bounded in time.
  void shutdown();

  const ActorAddress& admin() const noexcept { return admin_; }

  struct admin_process;

 private:
  link(system_core& core, ActorAddress admin, std::unique_ptr<admin_process> process);

  system_core& core_;
  ActorAddress admin_;
  std::unique_ptr<admin_process> process_;  // null in actor processes
};

}  // namespace thespian::detail::multiproc
