// link: how a multi-process system that does not host an actor itself reaches the admin that
// creates actors — the creating program's system (which also starts the admin process and
// reaps it; on multiprocTCPBase it joins the admin already listening on the Admin Port
// instead, and the admin lives until some program calls shutdown()), and each actor process's
// system (whose actor may create children).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "system/process/child_process.hpp"
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
  // listens (multiprocTCPBase: joins the admin on the Admin Port if one listens there). Throws
  // ActorSystemStartupFailure saying why it could not.
  static std::unique_ptr<link> start_admin(system_core& core, process::startup_method method);
  // multiprocTCPBase: the admin already listens on the Admin Port (route `admin_system_id`).
  // Throws ActorSystemStartupFailure when it does not accept this program (shutting down).
  static std::unique_ptr<link> join_admin(system_core& core, std::uint64_t admin_system_id);
  // An actor process's side: the admin is already there. `control_id`: this system's control
  // endpoint (protocol.hpp; another one in a routed actor process, see system_route.hpp).
  static std::unique_ptr<link> to_admin(system_core& core, std::uint64_t admin_system_id,
                                        std::uint64_t control_id);
  ~link();

  // From outside (parent == nullptr): blocks until the actor runs in its own process, or throws
  // what creating it locally would (InvalidActorSpecification, NoCompatibleSystemForActor).
  // From an actor: returns the address at once; messages to it wait until the process listens.
  // A global name from an actor asks the admin and waits, as from outside (it may be taken).
  // `type` may be null only with a global name (the admin then resolves the type name itself,
  // after looking the name up).
  ActorAddress create(const actor_type* type, const std::string& type_name, Requirements req,
                      std::string global_name, actor_cell* parent);
  // The creating program's side: every actor process ends, then the admin; bounded in time.
  void shutdown();
  // The creating program's side, multiprocTCPBase: this program is done with the system but
  // the admin stays (until some program calls shutdown()); the next shutdown() only lets go.
  void leave_running();

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
  link(system_core& core, ActorAddress admin, std::unique_ptr<admin_process> process,
       std::uint64_t control_id = 0);

  system_core& core_;
  ActorAddress admin_;
  std::unique_ptr<admin_process> process_;  // null in actor processes
  endpoint_ref<endpoint> control_;          // endpoint 0 (protocol.hpp), while the link lives
  bool leave_running_ = false;
};

// Starts `entry` ("thespian-admin", "thespian-logger") in a new process by `method` and waits
// until it answers that it listens. Throws ActorSystemStartupFailure naming `what`.
process::child_process start_system_process(process::startup_method method, const char* entry,
                                            const std::string& argument, const char* what);
// Ends a system process that waits for EOF on its bootstrap socket; SIGKILL if it lingers.
void end_system_process(process::child_process& child);

// The "Admin Port" capability of a multiprocTCPBase system (1900 unless set). Throws
// ActorSystemStartupFailure for a value that is not a port number.
std::uint16_t admin_port_of(const Capabilities& caps);

}  // namespace thespian::detail::multiproc
