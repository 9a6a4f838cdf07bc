// The admin process of a multi-process system: the "thespian-admin" host entry and the admin
// actor it hosts. The admin starts one process per actor (from its own forkserver, started
// while it is still single-threaded), keeps the system-wide global names, watches every actor
// process through its pidfd and, when one ends without having said goodbye (killed, exit()),
// tells the actor's parent ChildActorExited and makes messages to it dead letters. It ends with
// the program that started it (EOF on its bootstrap socket) and then takes every actor process
// with it.
#include <csignal>

#include <map>

#include <absl/strings/str_cat.h>

#include "core/actor_registry.hpp"
#include "system/multiproc/node.hpp"
#include "system/multiproc/protocol.hpp"
#include "system/multiproc/status_signal.hpp"
#include "system/multiproc/system_route.hpp"
#include "system/process/bootstrap.hpp"
#include "system/process/child_guard.hpp"
#include "system/process/exit_watcher.hpp"
#include "system/process/host_entry.hpp"
#include "system/process/local_socket.hpp"
#include "system/process/process_launcher.hpp"
#include "system/system_core.hpp"

namespace thespian::detail::multiproc {
namespace {

constexpr auto actor_start_limit = std::chrono::seconds(30);
constexpr auto shutdown_grace = std::chrono::seconds(3);

// Set by the entry before the admin actor exists; read-only afterwards.
struct admin_setup {
  std::shared_ptr<system_core> core;
  process::startup_method method = process::startup_method::forkserver;
  admin_spec spec;
};
admin_setup* the_setup = nullptr;

// From the exit watcher (on the admin's io thread) to the admin actor.
struct process_ended {
  std::uint64_t system_id = 0;
  process::exit_status status;
};

struct kill_stragglers {};

// The admin's own actor process's goodbye: the reply it writes before ending on its own.
constexpr const char* goodbye = "exited";

class admin_actor final : public Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* request = m.get<CreateActorRequest>()) {
      create(*request, from);
    } else if (const auto* ended = m.get<process_ended>()) {
      on_ended(*ended);
    } else if (m.is<ShutdownSystem>()) {
      begin_shutdown(from);
    } else if (const auto* dead = m.get<DeadEnvelope>()) {
      envelope e{dead->dead_message, from, envelope_kind::user, 0};
      the_setup->core->dead_letter(dead->dead_address, std::move(e));
    } else if (const auto* handler = m.get<SetDeadLetterHandler>()) {
      the_setup->core->set_dead_letter_handler(handler->handler, handler->start);
    } else if (m.is<SystemStatusQuery>()) {
      send(from, system_status());
    } else if (const auto* update = m.get<UpdateCapability>()) {
      the_setup->core->apply_capability(update->name, update->value);
      for (const auto& [id, child] : children_) {
        ActorAddress control(resolve_endpoint(id, control_endpoint_id));
        send(control, *update);
      }
      if (!from) {
        // From an actor: the creating program's copy changes too.
        ActorAddress client(resolve_endpoint(the_setup->spec.client_system_id, control_endpoint_id));
        send(client, *update);
      }
      if (from) send(from, *update);
    } else if (const auto* wake = m.get<WakeupMessage>(); wake && wake->payload.is<kill_stragglers>()) {
      for (auto& [id, child] : children_) {
        if (child.watcher->child().signal(SIGKILL)) ++killed_;
      }
    }
    co_return;
  }

 private:
  struct child_record {
    std::shared_ptr<process::exit_watcher> watcher;
    ActorAddress address;
    ActorAddress parent;
    std::string global_name;
  };

  SystemStatus system_status() {
    SystemStatus s = the_setup->core->status();
    s.admin_address = describe_route(the_setup->spec.system_id);
    s.actor_count = children_.size();
    s.global_names.clear();
    for (const auto& [name, address] : names_) s.global_names.emplace(name, address);
    return s;
  }

  void refuse(const CreateActorRequest& request, const ActorAddress& from,
              CreateActorReply::failure kind, std::string why) {
    if (request.parent) {
      // The parent already holds the address: it learns of the failure as an exit.
      ActorAddress child(resolve_endpoint(request.system_id, request.endpoint_id));
      node::instance().mark_dead(request.system_id);
      the_setup->core->log(LogLevel::warning, "child actor of type '" + request.type_name + "' of " +
                                 request.parent.to_string() + " failed: " + why);
      if (request.global_name.empty()) send(request.parent, ChildActorExited{child});
      return;
    }
    send(from, CreateActorReply{ActorAddress{}, kind, std::move(why)});
  }

  void create(CreateActorRequest request, const ActorAddress& from) {
    if (shutting_down_) {
      refuse(request, from, CreateActorReply::system_failure, "the actor system is shutting down");
      return;
    }
    if (!request.global_name.empty()) {
      if (auto it = names_.find(request.global_name); it != names_.end()) {
        if (!request.parent) send(from, CreateActorReply{it->second, CreateActorReply::none, {}});
        return;
      }
    }
    const actor_type* type = request.image == image_identity() && request.type_token != 0
                                 ? reinterpret_cast<const actor_type*>(request.type_token)
                                 : find_actor_type(request.type_name);
    if (type == nullptr) {
      refuse(request, from, CreateActorReply::invalid_specification,
             "no actor type is registered under the name '" + request.type_name +
                 "' (use THESPIAN_ACTOR: actor processes started by spawn know types only by "
                 "their registered name)");
      return;
    }
    const auto caps = the_setup->core->capabilities();
    if (auto unmet = unmet_requirement(*type, caps, request.requirements)) {
      refuse(request, from, CreateActorReply::no_compatible_system,
             "no compatible actor system for actor type '" + request.type_name + "': it " + *unmet);
      return;
    }
    if (request.system_id == 0) {
      request.system_id = new_system_id(route_kind::unix_socket);
      request.endpoint_id = actor_endpoint_id(request.system_id);
    }
    actor_spec spec{request, the_setup->spec.system_id, the_setup->spec.base, caps,
                    the_setup->spec.logging};
    std::optional<process::child_process> child;
    try {
      const auto deadline = std::chrono::steady_clock::now() + actor_start_limit;
      child.emplace(process::launch_actor_process(the_setup->method));
      process::start_actor_host(*child, {"thespian-actor", encode_actor_spec(spec)}, deadline);
      auto ready = process::read_bootstrap_reply(child->socket(), deadline);
      if (!ready.value || ready.value->result != process::bootstrap_reply::outcome::ready) {
        refuse(request, from, CreateActorReply::invalid_specification,
               ready.value ? ready.value->detail
                           : "actor type '" + request.type_name +
                                 "': its process ended or did not answer in time");
        return;  // `child` kills and reaps whatever is left of it
      }
    } catch (const std::exception& e) {
      refuse(request, from, CreateActorReply::system_failure,
             "actor type '" + request.type_name + "': its process did not start: " + e.what());
      return;
    }
    ActorAddress created(resolve_endpoint(request.system_id, request.endpoint_id));
    const std::uint64_t id = request.system_id;
    auto watcher = process::exit_watcher::start(
        the_setup->core->context().get_executor(), std::move(*child),
        [core = the_setup->core.get(), me = my_address(), id](std::error_code ec,
                                                              const process::exit_status& status) {
          if (ec) return;
          core->send(me, me, process_ended{id, status});
        });
    children_[id] = child_record{std::move(watcher), created, request.parent, request.global_name};
    if (!request.global_name.empty()) names_[request.global_name] = created;
    if (!request.parent) send(from, CreateActorReply{created, CreateActorReply::none, {}});
  }

  void on_ended(const process_ended& ended) {
    auto it = children_.find(ended.system_id);
    if (it == children_.end()) return;
    child_record child = std::move(it->second);
    children_.erase(it);
    node::instance().mark_dead(ended.system_id);
    if (!child.global_name.empty()) names_.erase(child.global_name);
    the_setup->core->set_dead_letter_handler(child.address, false);
    auto said = process::read_bootstrap_reply(child.watcher->child().socket(),
                                              std::chrono::steady_clock::now());
    const bool said_goodbye = said.value && said.value->detail == goodbye;
    if (!said_goodbye) {
      the_setup->core->log(LogLevel::warning, child.address.to_string() + " ended without exiting: " +
                                 ended.status.describe());
      if (child.parent && child.global_name.empty()) {
        send(child.parent, ChildActorExited{child.address});
      }
    }
    if (shutting_down_ && children_.empty()) finish_shutdown();
  }

  void begin_shutdown(const ActorAddress& from) {
    shutdown_requesters_.push_back(from);
    if (shutting_down_) return;
    shutting_down_ = true;
    for (const auto& [id, child] : children_) {
      if (!child.parent || !child.global_name.empty()) send(child.address, ActorExitRequest{});
    }
    if (children_.empty()) {
      finish_shutdown();
    } else {
      wakeup_after(shutdown_grace, kill_stragglers{});
    }
  }

  void finish_shutdown() {
    for (const auto& requester : shutdown_requesters_) {
      if (requester) send(requester, SystemShutDown{killed_});  // an actor's request has none
    }
    shutdown_requesters_.clear();
  }

  std::map<std::uint64_t, child_record> children_;
  std::map<std::string, ActorAddress, std::less<>> names_;
  bool shutting_down_ = false;
  std::vector<ActorAddress> shutdown_requesters_;
  std::uint64_t killed_ = 0;
};

int admin_entry(process::host_context& context) {
  admin_setup setup;
  setup.spec = decode_admin_spec(context.argument);
  // While this process is single-threaded: the actor processes are forked from here.
  setup.method = process::default_startup_method();
  node& transport = node::instance();
  setup.core = std::make_shared<system_core>(setup.spec.base, setup.spec.capabilities,
                                             options_logging_to(setup.spec.logging),
                                             process_role::admin, setup.spec.system_id);
  the_setup = &setup;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  try {
    transport.attach(setup.spec.system_id, setup.core);
    const auto& type = actor_type_of<admin_actor>();
    setup.core->host_actor(type, "thespian.Admin", {}, {}, ActorAddress{},
                           actor_endpoint_id(setup.spec.system_id));
  } catch (const std::exception& e) {
    process::write_bootstrap(context.socket,
                             process::bootstrap_reply{process::bootstrap_reply::outcome::entry_failed,
                                                      e.what()},
                             deadline);
    return process::host_exit_failed;
  }
  log_status_on_sigusr1(*setup.core, "admin");
  process::write_bootstrap(context.socket, process::bootstrap_reply{}, deadline);
  // The program that started us is gone, or done with us: end every actor process, then us.
  process::wait_for_peer_close(context.socket);
  setup.core->shutdown();
  transport.detach(setup.spec.system_id);
  setup.core.reset();
  process::stop_shared_forkserver();
  return process::host_exit_ok;
}

const process::host_entry_registrar admin_registrar("thespian-admin", &admin_entry);

}  // namespace
}  // namespace thespian::detail::multiproc
