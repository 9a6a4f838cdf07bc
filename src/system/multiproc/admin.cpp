// The admin process of a multi-process system: the "thespian-admin" host entry and the admin
// actor it hosts. The admin starts one process per actor (from its own forkserver, started
// while it is still single-threaded), keeps the system-wide global names, watches every actor
// process through its pidfd and, when one ends without having said goodbye (killed, exit()),
// tells the actor's parent ChildActorExited and makes messages to it dead letters. On
// multiprocQueueBase it ends with the program that started it (EOF on its bootstrap socket);
// on multiprocTCPBase it is a daemon on the Admin Port that later programs join, and it ends
// when a program asks it to shut down. Either way SIGTERM/SIGINT shut it down in order, and
// it takes every actor process with it. With Admin Routing (multiprocTCPBase) its node relays
// every frame for the system's actors (node.hpp); the admin tells it each child's route.
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>

#include <absl/strings/str_cat.h>

#include "core/actor_registry.hpp"
#include "system/multiproc/link.hpp"
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
#include "system/process/thread_count.hpp"
#include "system/system_core.hpp"

namespace thespian::detail::multiproc {
namespace {

// From the launch to the actor's constructor having run (its answer).
constexpr auto actor_start_limit = std::chrono::seconds(30);
constexpr auto shutdown_grace = std::chrono::seconds(3);

// Set by the entry before the admin actor exists; read-only afterwards.
struct admin_setup {
  std::shared_ptr<system_core> core;
  process::startup_method method = process::startup_method::forkserver;
  admin_spec spec;
  bool daemon = false;  // multiprocTCPBase
  struct routing routing;  // Admin Routing / Outbound Only

  // Set once the system has shut down (every actor process ended) or the program that started
  // a non-daemon admin is gone: the entry then ends.
  std::mutex mutex;
  std::condition_variable changed;
  bool done = false;
  void finish() {
    std::lock_guard lock(mutex);
    done = true;
    changed.notify_all();
  }
};
admin_setup* the_setup = nullptr;

// From the exit watcher (on the admin's io thread) to the admin actor.
struct process_ended {
  std::uint64_t endpoint_id = 0;  // of the process's actor
  process::exit_status status;
};

struct kill_stragglers {};

// From a starting actor process's socket watch (on the admin's io thread): it has something to
// say (an answer, or EOF). `serial` tells a watch of an older process with the same id apart.
struct start_readable {
  std::uint64_t endpoint_id = 0;
  std::uint64_t serial = 0;
};
// The start of that process took longer than actor_start_limit.
struct start_overdue {
  std::uint64_t endpoint_id = 0;
  std::uint64_t serial = 0;
};

// From the signal handler (on the admin's io thread): SIGTERM or SIGINT arrived.
struct termination_signal {
  int number = 0;
};

// The admin's own actor process's goodbye: the reply it writes before ending on its own.
constexpr const char* goodbye = "exited";

class admin_actor final : public Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* request = m.get<CreateActorRequest>()) {
      create(*request, from);
    } else if (const auto* join = m.get<JoinSystem>()) {
      if (shutting_down_) {
        send(from, JoinReply{false, "it is shutting down"});
      } else if (join->base != the_setup->spec.base) {
        send(from, JoinReply{false, "it runs " + the_setup->spec.base + ", not " + join->base});
      } else {
        send(from, JoinReply{true, {}, the_setup->routing.via_admin,
                           the_setup->routing.outbound_only});
      }
    } else if (const auto* readable = m.get<start_readable>()) {
      on_start_readable(*readable);
    } else if (const auto* overdue = m.get<start_overdue>()) {
      on_start_overdue(*overdue);
    } else if (const auto* ended = m.get<process_ended>()) {
      on_ended(*ended);
    } else if (m.is<ShutdownSystem>()) {
      begin_shutdown(from);
    } else if (const auto* signal = m.get<termination_signal>()) {
      the_setup->core->log(LogLevel::info, "admin: signal " + std::to_string(signal->number) +
                                               ": shutting the system down");
      signalled_ = true;
      begin_shutdown(ActorAddress{});
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
        ActorAddress control(resolve_endpoint(
            child.address.endpoint()->system_id(),
            the_setup->routing.via_admin ? routed_control_id(id) : control_endpoint_id));
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
      for (auto& [id, start] : starting_) {
        if (start.child.signal(SIGKILL)) ++killed_;
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

  // An actor process launched whose answers have not all come yet.
  struct start_record {
    start_record(CreateActorRequest r, ActorAddress f, bool a, std::uint64_t s, Capabilities k,
                 process::child_process c)
        : request(std::move(r)), from(std::move(f)), asked(a), serial(s), caps(std::move(k)),
          child(std::move(c)) {}
    CreateActorRequest request;
    ActorAddress from;
    bool asked = false;
    std::uint64_t serial = 0;
    Capabilities caps;  // as the process got them
    process::child_process child;
    std::unique_ptr<asio::posix::stream_descriptor> watched;  // a duplicate of child.socket()
    bool host_ready = false;  // the launcher answered; the entry's answer is next
    std::vector<ActorAddress> also_asked;  // asked for the same global name meanwhile
  };

  SystemStatus system_status() {
    SystemStatus s = the_setup->core->status();
    s.admin_address = describe_route(the_setup->spec.system_id);
    s.actor_count = children_.size();
    s.global_names.clear();
    for (const auto& [name, address] : names_) s.global_names.emplace(name, address);
    return s;
  }

  // The port of a TCP child is reserved by whoever chose its id (system_route.hpp): here, or
  // in its parent's process. Once the child listens, or never will, the reservation goes, and
  // the parent (which may already be dialling the child, backing off after each refusal) is
  // told that the route is open.
  void release_reservation(const CreateActorRequest& request) {
    if (the_setup->routing.via_admin) {
      // The admin chose the route of a routed child (node::add_relay): nobody else holds it.
      if (const auto route = node::instance().relay_route(request.system_id, request.endpoint_id)) {
        release_route(route);
        node::instance().route_opened(route);
      }
      return;
    }
    release_route(request.system_id);
    if (request.parent) {
      ActorAddress parent_control(
          resolve_endpoint(request.parent.endpoint()->system_id(), control_endpoint_id));
      send(parent_control, ReleaseRoute{request.system_id});
    }
  }

  // `asked`: the requester waits for a CreateActorReply (it left the ids to us: a creation from
  // outside, or a named one from an actor); otherwise a parent already holds the address.
  void refuse(const CreateActorRequest& request, const ActorAddress& from, bool asked,
              CreateActorReply::failure kind, std::string why) {
    if (request.system_id != 0) release_reservation(request);
    if (the_setup->routing.via_admin && request.endpoint_id != 0) {
      node::instance().remove_relay(request.endpoint_id);
    }
    if (request.parent && !asked) {
      // The parent already holds the address: it learns of the failure as an exit.
      ActorAddress child(resolve_endpoint(request.system_id, request.endpoint_id));
      node::instance().mark_dead(request.system_id, request.endpoint_id);
      the_setup->core->log(LogLevel::warning, "child actor of type '" + request.type_name + "' of " +
                                 request.parent.to_string() + " failed: " + why);
      if (request.global_name.empty()) send(request.parent, ChildActorExited{child});
      return;
    }
    send(from, CreateActorReply{ActorAddress{}, kind, std::move(why)});
  }

  // Launches the process and returns: its answers (the launcher's, then the entry's: the
  // constructor ran, or why not) arrive as start_readable, so several creations are in flight
  // at once and the admin answers other messages meanwhile. finish_start() or fail_start() ends
  // each.
  void create(CreateActorRequest request, const ActorAddress& from) {
    const bool asked = request.system_id == 0;
    if (shutting_down_) {
      refuse(request, from, asked, CreateActorReply::system_failure,
             "the actor system is shutting down");
      return;
    }
    if (!request.global_name.empty()) {
      if (auto it = names_.find(request.global_name); it != names_.end()) {
        if (asked) send(from, CreateActorReply{it->second, CreateActorReply::none, {}});
        return;
      }
      for (auto& [id, start] : starting_) {
        // Being created now: this asker gets the same actor once it runs (or the same failure).
        if (start.request.global_name == request.global_name) {
          if (asked) start.also_asked.push_back(from);
          return;
        }
      }
    }
    const actor_type* type = request.image == image_identity() && request.type_token != 0
                                 ? reinterpret_cast<const actor_type*>(request.type_token)
                                 : find_actor_type(request.type_name);
    if (type == nullptr) {
      refuse(request, from, asked, CreateActorReply::invalid_specification,
             "no actor type is registered under the name '" + request.type_name +
                 "' (use THESPIAN_ACTOR: actor processes started by spawn know types only by "
                 "their registered name)");
      return;
    }
    const auto caps = the_setup->core->capabilities();
    if (auto unmet = unmet_requirement(*type, caps, request.requirements)) {
      refuse(request, from, asked, CreateActorReply::no_compatible_system,
             "no compatible actor system for actor type '" + request.type_name + "': it " + *unmet);
      return;
    }
    std::uint64_t route = request.system_id;
    if (the_setup->routing.via_admin) {
      // The child's address has our system id; its process is reached through the relay table.
      if (request.system_id == 0) request.endpoint_id = new_routed_endpoint_id();
      request.system_id = the_setup->spec.system_id;
      route = node::instance().add_relay(request.endpoint_id);
    } else if (request.system_id == 0) {
      request.system_id = node::instance().new_route(route_kind_of_base(the_setup->spec.base));
      request.endpoint_id = new_actor_endpoint_id(request.system_id);
      route = request.system_id;
    }
    actor_spec spec{request, the_setup->spec.system_id, the_setup->spec.base, caps,
                    the_setup->spec.logging};
    spec.request.system_id = route;  // where the process listens (or what it dials in as)
    std::optional<process::child_process> child;
    try {
      child.emplace(process::launch_actor_process(the_setup->method));
      try {
        const process::bootstrap_request bootstrap{"thespian-actor", encode_actor_spec(spec)};
        process::write_bootstrap(child->socket(), bootstrap,
                                 std::chrono::steady_clock::now() + actor_start_limit);
      } catch (const std::system_error& e) {
        throw ActorSystemStartupFailure(absl::StrCat("actor process ", child->pid(),
                                                     ": sending the bootstrap failed: ", e.what()));
      }
    } catch (const std::exception& e) {
      refuse(request, from, asked, CreateActorReply::system_failure,
             "actor type '" + request.type_name + "': its process did not start: " + e.what());
      return;  // `child` kills and reaps whatever is left of it
    }
    const std::uint64_t id = request.endpoint_id;
    if (starting_.count(id) != 0 || children_.count(id) != 0) {
      refuse(request, from, asked, CreateActorReply::system_failure,
             "actor type '" + request.type_name + "': its id is taken");
      return;
    }
    auto it = starting_
                  .try_emplace(id, std::move(request), from, asked, ++start_serial_, caps,
                               std::move(*child))
                  .first;
    wakeup_after(actor_start_limit, start_overdue{id, it->second.serial});
    watch_start(it);
  }

  // Waits for the next answer of a starting process on a new duplicate of its socket. New each
  // time: asio registers a descriptor with epoll edge-triggered, so an answer that arrived
  // while nothing waited (the entry's, right after the launcher's) raises no new edge on the
  // old one, whereas a new registration reports what is already there.
  void watch_start(std::map<std::uint64_t, start_record>::iterator it) {
    start_record& start = it->second;
    start.watched.reset();
    const int fd = ::fcntl(start.child.socket(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      fail_start(it, CreateActorReply::system_failure,
                 "actor type '" + start.request.type_name + "': its process did not start: " +
                     std::system_category().message(errno));
      return;
    }
    start.watched =
        std::make_unique<asio::posix::stream_descriptor>(the_setup->core->context(), fd);
    start.watched->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [core = the_setup->core.get(), me = my_address(), id = start.request.endpoint_id,
         serial = start.serial](std::error_code ec) {
          if (!ec) core->send(me, me, start_readable{id, serial});
        });
  }

  void on_start_readable(const start_readable& readable) {
    auto it = starting_.find(readable.endpoint_id);
    if (it == starting_.end() || it->second.serial != readable.serial) return;
    start_record& start = it->second;
    // Each answer is one small frame written at once: readable means it is all there (or EOF).
    auto answer = process::read_bootstrap_reply(
        start.child.socket(), std::chrono::steady_clock::now() + std::chrono::seconds(1));
    const bool ready =
        answer.value && answer.value->result == process::bootstrap_reply::outcome::ready;
    if (!start.host_ready) {
      if (ready) {
        start.host_ready = true;
        watch_start(it);
        return;
      }
      std::string why = answer.value ? answer.value->detail
                        : answer.error == process::bootstrap_read_error::malformed
                            ? "it answered garbage: " + answer.why
                            : std::string("it ended before it answered");
      fail_start(it, CreateActorReply::system_failure,
                 "actor type '" + start.request.type_name + "': its process did not start: " +
                     std::move(why));
      return;
    }
    if (!ready) {
      fail_start(it, CreateActorReply::invalid_specification,
                 answer.value ? answer.value->detail
                              : "actor type '" + start.request.type_name + "': its process " +
                                    how_it_ended(start.child, answer.error));
      return;
    }
    finish_start(it);
  }

  // Why a process gave no answer, for the creator: its exit status when it ended (a crash
  // names its signal), else that it stayed silent.
  static std::string how_it_ended(process::child_process& child,
                                  process::bootstrap_read_error error) {
    if (error == process::bootstrap_read_error::closed) {
      // Its end of the socket closes as it exits: the status follows at once.
      auto status =
          child.wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
      return status ? "ended before it answered (" + status->describe() + ")"
                    : std::string("closed its bootstrap socket before it answered");
    }
    if (error == process::bootstrap_read_error::malformed) return "answered garbage";
    return "did not answer in time";
  }

  void on_start_overdue(const start_overdue& overdue) {
    auto it = starting_.find(overdue.endpoint_id);
    if (it == starting_.end() || it->second.serial != overdue.serial) return;
    const bool host_ready = it->second.host_ready;
    fail_start(it,
               host_ready ? CreateActorReply::invalid_specification
                          : CreateActorReply::system_failure,
               "actor type '" + it->second.request.type_name +
                   (host_ready ? "': its process ended or did not answer in time"
                               : "': its process did not start: it did not answer in time"));
  }

  void fail_start(std::map<std::uint64_t, start_record>::iterator it,
                  CreateActorReply::failure kind, const std::string& why) {
    start_record start = std::move(it->second);
    starting_.erase(it);
    for (const auto& asker : start.also_asked) {
      send(asker, CreateActorReply{ActorAddress{}, kind, why});
    }
    refuse(start.request, start.from, start.asked, kind, why);
    // `start.child` kills and reaps whatever is left of the process as it goes.
    if (shutting_down_ && children_.empty() && starting_.empty()) finish_shutdown();
  }

  // Capability updates applied while the process started (it got `had`) reach it now.
  void send_capability_changes(const ActorAddress& actor, const Capabilities& had) {
    const auto now = the_setup->core->capabilities();
    if (now == had) return;
    ActorAddress control(resolve_endpoint(actor.endpoint()->system_id(), control_endpoint_id));
    for (const auto& [name, value] : now) {
      auto it = had.find(name);
      if (it == had.end() || !(it->second == value)) send(control, UpdateCapability{name, value});
    }
    for (const auto& [name, value] : had) {
      if (!now.contains(name)) send(control, UpdateCapability{name, std::nullopt});
    }
  }

  void finish_start(std::map<std::uint64_t, start_record>::iterator it) {
    start_record start = std::move(it->second);
    starting_.erase(it);
    const CreateActorRequest& request = start.request;
    release_reservation(request);
    ActorAddress created(resolve_endpoint(request.system_id, request.endpoint_id));
    // Keyed by the actor's endpoint id: a TCP child's system id (its port) can come back for a
    // new child before the old one's end has been processed here.
    const std::uint64_t id = request.endpoint_id;
    auto watcher = process::exit_watcher::start(
        the_setup->core->context().get_executor(), std::move(start.child),
        [core = the_setup->core.get(), me = my_address(), id](std::error_code ec,
                                                              const process::exit_status& status) {
          if (ec) return;
          core->send(me, me, process_ended{id, status});
        });
    children_[id] = child_record{std::move(watcher), created, request.parent, request.global_name};
    if (!request.global_name.empty()) names_[request.global_name] = created;
    send_capability_changes(created, start.caps);
    if (start.asked) send(start.from, CreateActorReply{created, CreateActorReply::none, {}});
    for (const auto& asker : start.also_asked) {
      send(asker, CreateActorReply{created, CreateActorReply::none, {}});
    }
    // Started while the system shut down: it goes the way of the others.
    if (shutting_down_ && (!request.parent || !request.global_name.empty())) {
      send(created, ActorExitRequest{});
    }
  }

  void on_ended(const process_ended& ended) {
    auto it = children_.find(ended.endpoint_id);
    if (it == children_.end()) return;
    child_record child = std::move(it->second);
    children_.erase(it);
    node::instance().mark_dead(child.address.endpoint()->system_id(), ended.endpoint_id);
    if (the_setup->routing.via_admin) node::instance().remove_relay(ended.endpoint_id);
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
    if (shutting_down_ && children_.empty() && starting_.empty()) finish_shutdown();
  }

  void begin_shutdown(const ActorAddress& from) {
    shutdown_requesters_.push_back(from);
    if (!shutting_down_) {
      the_setup->core->log(LogLevel::debug, absl::StrCat("admin: shutting down (", children_.size(),
                                                         " actor processes) for ",
                                                         from.to_string()));
      shutting_down_ = true;
      for (const auto& [id, child] : children_) {
        if (!child.parent || !child.global_name.empty()) send(child.address, ActorExitRequest{});
      }
      if (!children_.empty() || !starting_.empty()) {
        wakeup_after(shutdown_grace, kill_stragglers{});
      }
    }
    // Also a second request after an earlier shutdown has finished: it is answered at once.
    if (children_.empty() && starting_.empty()) finish_shutdown();
  }

  void finish_shutdown() {
    the_setup->core->log(LogLevel::debug, "admin: every actor process has ended");
    for (const auto& requester : shutdown_requesters_) {
      if (requester) send(requester, SystemShutDown{killed_});  // an actor's request has none
    }
    shutdown_requesters_.clear();
    // A daemon has nothing left to do; a queue admin lives as long as its program (an actor's
    // actor_system_shutdown ends the actors, not the program's system).
    if (the_setup->daemon || signalled_) the_setup->finish();
  }

  bool signalled_ = false;  // SIGTERM/SIGINT: the admin process ends after the shutdown


  std::map<std::uint64_t, child_record> children_;  // by the actor's endpoint id
  std::map<std::uint64_t, start_record> starting_;  // likewise, until they answered
  std::uint64_t start_serial_ = 0;
  std::map<std::string, ActorAddress, std::less<>> names_;
  bool shutting_down_ = false;
  std::vector<ActorAddress> shutdown_requesters_;
  std::uint64_t killed_ = 0;
};

int admin_entry(process::host_context& context) {
  admin_setup setup;
  setup.spec = decode_admin_spec(context.argument);
  setup.daemon = has_port(route_kind_of_base(setup.spec.base));
  if (route_kind_of_base(setup.spec.base) == route_kind::tcp) {
    setup.routing = routing_of(setup.spec.capabilities);
  }
  if (setup.daemon) {
    // A daemon outlives the program that started it: no death signal from it, and no share in
    // its terminal's signals (its own SIGTERM/SIGINT still shut it down in order).
    ::prctl(PR_SET_PDEATHSIG, 0);
    ::setsid();
    // Nor its standard streams: a program reading the starter's output (a pipe) would wait
    // for the daemon's end. What the system says goes to its log file.
    std::fflush(nullptr);
    if (const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
      for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
      ::close(null);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto fail = [&](const std::string& why) {
    process::write_bootstrap(
        context.socket,
        process::bootstrap_reply{process::bootstrap_reply::outcome::entry_failed, why}, deadline);
    return process::host_exit_failed;
  };
  // While this process is single-threaded: the actor processes are forked from here, by a
  // forkserver that keeps a few forked in advance (process_launcher.hpp). Without one (it
  // could not start), default_startup_method() falls back to spawn or says what is wrong.
  try {
    const std::size_t pool = process::prefork_pool_size();
    if (!process::shared_forkserver() && process::current_thread_count() == 1) {
      process::start_shared_forkserver(pool);
    }
    setup.method = process::default_startup_method();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::optional<process::child_process> logger;
  if (setup.spec.own_logger) {
    try {
      logger.emplace(start_system_process(setup.method, "thespian-logger",
                                          encode_logger_spec(*setup.spec.own_logger), "logger"));
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  node& transport = node::instance();
  setup.core = std::make_shared<system_core>(setup.spec.base, setup.spec.capabilities,
                                             options_logging_to(setup.spec.logging),
                                             process_role::admin, setup.spec.system_id);
  the_setup = &setup;
  if (setup.routing.via_admin) {
    transport.set_routed(setup.spec.system_id, setup.routing.outbound_only);
  }
  ActorAddress admin;
  try {
    // An Admin Port is bound exclusively: a second admin there must fail, not share it.
    transport.attach(setup.spec.system_id, setup.core, /*exclusive=*/setup.daemon);
    const auto& type = actor_type_of<admin_actor>();
    admin = setup.core->host_actor(type, "thespian.Admin", {}, {}, ActorAddress{},
                                   admin_endpoint_id(setup.spec.system_id),
                                   /*system_actor=*/true);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  log_status_on_sigusr1(*setup.core, "admin");
  std::optional<asio::signal_set> termination;
  termination.emplace(setup.core->context(), SIGTERM, SIGINT);
  termination->async_wait([core = setup.core.get(), admin](std::error_code ec, int number) {
    if (!ec) core->send(admin, admin, termination_signal{number});
  });
  process::write_bootstrap(context.socket, process::bootstrap_reply{}, deadline);
  if (!setup.daemon) {
    // The program that started us is gone, or done with us: end every actor process, then us.
    std::thread([&setup, socket = context.socket] {
      try {
        process::wait_for_peer_close(socket);
      } catch (...) {
        // A socket that cannot be polled: the program can no longer be heard; end.
      }
      setup.finish();
    }).detach();
  }
  {
    std::unique_lock lock(setup.mutex);
    setup.changed.wait(lock, [&setup] { return setup.done; });
  }
  // The last replies (SystemShutDown) leave before we do.
  transport.flush(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  std::error_code ignored;
  termination->cancel(ignored);
  termination.reset();  // before the io_context it belongs to goes
  setup.core->shutdown();
  transport.detach(setup.spec.system_id);
  setup.core.reset();
  if (logger) end_system_process(*logger);
  logger.reset();  // it holds the forkserver (its reaper), which must go before we do
  process::stop_shared_forkserver();
  std::fflush(nullptr);
  // The watcher thread of a non-daemon admin may still wait on the socket: end the process
  // rather than return into static destructors under it.
  ::_exit(process::host_exit_ok);
}

const process::host_entry_registrar admin_registrar("thespian-admin", &admin_entry);

}  // namespace
}  // namespace thespian::detail::multiproc
