// Implements link.hpp. The admin is an ordinary actor in a process of its own; creating an
// actor from outside is a correlated ask to it, and so is shutting the system down.
#include "system/multiproc/link.hpp"

#include <atomic>
#include <future>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include "core/actor_cell.hpp"
#include "core/actor_registry.hpp"
#include "system/multiproc/node.hpp"
#include "system/multiproc/protocol.hpp"
#include "system/multiproc/system_route.hpp"
#include "system/process/bootstrap.hpp"
#include "system/process/child_process.hpp"
#include "system/process/process_launcher.hpp"
#include "system/system_core.hpp"
#include "thespian/errors.hpp"

namespace thespian::detail::multiproc {
namespace {

constexpr auto admin_start_limit = std::chrono::seconds(30);
constexpr auto create_limit = std::chrono::seconds(30);
constexpr auto shutdown_limit = std::chrono::seconds(15);

// A blocking correlated ask from a plain thread; nullopt on timeout.
std::optional<Message> ask_blocking(system_core& core, const ActorAddress& to, Message request,
                                    std::chrono::nanoseconds timeout) {
  if (core.role() == process_role::member) {
    // An actor process: this thread (its actor's) also reads the answer from its channels
    // (node::run_on), so it waits by running the io_context (caller_driver) rather than
    // blocking; the actor is not re-entered meanwhile (it is busy in this call).
    struct state {
      std::atomic<bool> done{false};
      std::exception_ptr error;
      std::optional<Message> reply;
    };
    auto s = std::make_shared<state>();
    std::weak_ptr<system_core> weak = core.shared_from_this();
    core.start_async_ask(to, std::move(request), timeout,
                         [s, weak](std::exception_ptr error, std::optional<Message> reply) {
                           s->error = error;
                           s->reply = std::move(reply);
                           s->done.store(true);
                           // A UDP channel answers on a thread of its own.
                           if (auto core = weak.lock()) core->driver().notify();
                         });
    // The ask's own timer ends it at `timeout`; the margin only guards against a lost timer.
    core.driver().wait_until([s] { return s->done.load(); },
                             deadline_after(timeout + std::chrono::seconds(5)));
    if (!s->done.load()) return std::nullopt;
    if (s->error) std::rethrow_exception(s->error);
    return std::move(s->reply);
  }
  auto answer = std::make_shared<std::promise<std::optional<Message>>>();
  auto result = answer->get_future();
  core.start_async_ask(to, std::move(request), timeout,
                       [answer](std::exception_ptr error, std::optional<Message> reply) {
                         if (error) {
                           answer->set_exception(error);
                         } else {
                           answer->set_value(std::move(reply));
                         }
                       });
  return result.get();
}

// Endpoint 0 of a client or actor-process system: what the admin tells the system itself.
class control_endpoint final : public endpoint {
 public:
  control_endpoint(system_core& core, std::uint64_t id) : endpoint(core.id(), id), core_(core) {}
  bool deliver(envelope&& e) override {
    if (const auto* update = e.message.get<UpdateCapability>()) {
      core_.apply_capability(update->name, update->value);
      return true;
    }
    if (const auto* release = e.message.get<ReleaseRoute>()) {
      release_route(release->system_id);
      node::instance().route_opened(release->system_id);
      return true;
    }
    if (const auto* r = e.message.get<LogRecordMessage>()) {
      // From the logger, which wrote the file already: only the sink is left to do.
      if (const auto& sink = core_.options().log_sink) {
        sink(LogRecord{static_cast<LogLevel>(r->level), r->source, r->text,
                       std::chrono::system_clock::time_point(
                           std::chrono::duration_cast<std::chrono::system_clock::duration>(
                               std::chrono::nanoseconds(r->when_ns)))});
      }
      return true;
    }
    return false;
  }

 private:
  system_core& core_;
};

}  // namespace

// Starts `entry` in a new process and waits for both of its answers: the launcher's "ready"
// and the entry's own (it listens).
process::child_process start_system_process(process::startup_method method, const char* entry,
                                            const std::string& argument, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + admin_start_limit;
  process::child_process child = process::launch_actor_process(method);
  try {
    process::start_actor_host(child, {entry, argument}, deadline);
  } catch (const std::exception& e) {
    throw ActorSystemStartupFailure(std::string("the ") + what + " process did not start: " +
                                    e.what());
  }
  auto ready = process::read_bootstrap_reply(child.socket(), deadline);
  if (!ready.value || ready.value->result != process::bootstrap_reply::outcome::ready) {
    throw ActorSystemStartupFailure(
        std::string("the ") + what + " process did not start: " +
        (ready.value ? ready.value->detail : std::string("it ended or did not answer in time")));
  }
  return child;
}

void end_system_process(process::child_process& child) {
  child.take_socket().reset();
  if (!child.wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
    child.signal(SIGKILL);
    child.wait_until(std::chrono::steady_clock::time_point::max());
  }
}

std::uint16_t admin_port_of(const Capabilities& caps) {
  auto it = caps.find("Admin Port");
  if (it == caps.end()) return 1900;
  std::int64_t port = -1;
  if (const auto* n = std::get_if<std::int64_t>(&it->second)) {
    port = *n;
  } else if (const auto* d = std::get_if<double>(&it->second);
             d && *d == static_cast<std::int64_t>(*d)) {
    port = static_cast<std::int64_t>(*d);
  } else if (const auto* text = std::get_if<std::string>(&it->second)) {
    try {
      std::size_t used = 0;
      port = std::stoll(*text, &used);
      if (used != text->size()) port = -1;
    } catch (const std::exception&) {
      port = -1;
    }
  }
  if (port < 1 || port > 65535) {
    throw ActorSystemStartupFailure(
        "capability 'Admin Port' must be a port number (1-65535), not '" + to_string(it->second) +
        "'");
  }
  return static_cast<std::uint16_t>(port);
}

namespace {

// Whether something accepts connections on the TCP route of `system_id` now (a refused connect
// says no at once), or holds its UDP port (a datagram has no answer to wait for; an admin binds
// its port exclusively, so a bind that succeeds says nobody is there; this host only).
bool something_listens(std::uint64_t system_id) {
  asio::io_context io;
  std::error_code ec;
  if (kind_of(system_id) == route_kind::udp) {
    asio::ip::udp::socket probe(io);
    probe.open(asio::ip::udp::v4(), ec);
    if (!ec) probe.bind(udp_route(system_id), ec);
    return ec == asio::error::address_in_use;
  }
  asio::ip::tcp::socket probe(io);
  probe.connect(tcp_route(system_id), ec);
  return !ec;
}

}  // namespace

// The creating program's system processes: the logger starts first and ends last, so that
// the admin's and the actors' last records are written.
struct link::admin_process {
  std::optional<process::child_process> logger;
  std::optional<process::child_process> admin;
  ~admin_process() {
    if (admin) end_system_process(*admin);
    if (logger) end_system_process(*logger);
  }
};

link::link(system_core& core, ActorAddress admin, std::unique_ptr<admin_process> process,
           std::uint64_t control_id)
    : core_(core),
      admin_(std::move(admin)),
      process_(std::move(process)),
      control_(make_endpoint<control_endpoint>(core, control_id)) {
  remember_endpoint(control_);
}

link::~link() {
  // A daemon admin that nobody shut down stays: it is not ours to kill.
  if (leave_running_ && process_ && process_->admin) process_->admin->release();
}

void link::leave_running() {
  if (has_port(route_kind_of_base(core_.base()))) leave_running_ = true;
}

std::unique_ptr<link> link::start_admin(system_core& core, process::startup_method method) {
  const route_kind kind = route_kind_of_base(core.base());
  const bool daemon = has_port(kind);
  std::uint64_t admin_id = 0;
  if (daemon) {
    const std::uint16_t port = admin_port_of(*core.capabilities_snapshot());
    admin_id = port_system_id(kind, asio::ip::address_v4::loopback(), port);
    if (something_listens(admin_id)) return join_admin(core, admin_id);
    if (kind == route_kind::tcp) {
      const auto how = routing_of(*core.capabilities_snapshot());
      if (how.via_admin) node::instance().set_routed(admin_id, how.outbound_only);
    }
  }
  const auto& hub = *core.log();
  logger_spec logging;
  // The logger serves this host only: a UNIX route, whatever the base.
  logging.system_id = new_system_id(route_kind::unix_socket);
  logging.client_system_id = core.id();
  logging.base = core.base();
  logging.log_file = hub.file_path();
  logging.log_max_size = hub.file_max_size();
  logging.file_threshold = static_cast<std::int32_t>(hub.file_threshold());
  logging.has_sink = static_cast<bool>(core.options().log_sink);
  logging.sink_threshold = static_cast<std::int32_t>(core.options().sink_threshold);
  auto started = std::make_unique<admin_process>();
  admin_spec spec;
  spec.base = core.base();
  spec.capabilities = core.capabilities();
  spec.system_id = daemon ? admin_id : new_system_id(route_kind::unix_socket);
  if (daemon) {
    spec.own_logger = logging;
  } else {
    started->logger.emplace(
        start_system_process(method, "thespian-logger", encode_logger_spec(logging), "logger"));
  }
  spec.logging.logger_system_id = logging.system_id;
  spec.client_system_id = core.id();
  spec.logging.threshold = logging.has_sink ? std::min(logging.file_threshold, logging.sink_threshold)
                                            : logging.file_threshold;
  try {
    started->admin.emplace(
        start_system_process(method, "thespian-admin", encode_admin_spec(spec), "admin"));
  } catch (const ActorSystemStartupFailure&) {
    // Another program started an admin on the port meanwhile: use that one.
    if (daemon && something_listens(admin_id)) return join_admin(core, admin_id);
    throw;
  }
  ActorAddress admin(resolve_endpoint(spec.system_id, admin_endpoint_id(spec.system_id)));
  return std::unique_ptr<link>(new link(core, std::move(admin), std::move(started)));
}

std::unique_ptr<link> link::join_admin(system_core& core, std::uint64_t admin_system_id) {
  ActorAddress admin(resolve_endpoint(admin_system_id, admin_endpoint_id(admin_system_id)));
  std::unique_ptr<link> joined(new link(core, admin, nullptr));
  const std::string where = describe_route(admin_system_id);
  std::optional<Message> reply;
  try {
    reply = ask_blocking(core, admin, JoinSystem{core.base()}, std::chrono::seconds(10));
  } catch (const std::exception& e) {
    throw ActorSystemStartupFailure("cannot join the admin on " + where + ": " + e.what());
  }
  if (!reply || !reply->is<JoinReply>()) {
    throw ActorSystemStartupFailure("something listens on " + where +
                                    " but no " + core.base() + " admin answered there");
  }
  const auto& answer = reply->as<JoinReply>();
  if (!answer.accepted) {
    throw ActorSystemStartupFailure("the admin on " + where + " refused this program: " +
                                    answer.why);
  }
  // The system's routing is the admin's, whatever this program asked for.
  if (answer.admin_routing) node::instance().set_routed(admin_system_id, answer.outbound_only);
  core.apply_capability("Admin Routing", answer.admin_routing);
  core.apply_capability("Outbound Only", answer.outbound_only);
  return joined;
}

std::unique_ptr<link> link::to_admin(system_core& core, std::uint64_t admin_system_id,
                                     std::uint64_t control_id) {
  ActorAddress admin(resolve_endpoint(admin_system_id, admin_endpoint_id(admin_system_id)));
  return std::unique_ptr<link>(new link(core, std::move(admin), nullptr, control_id));
}

ActorAddress link::create(const actor_type* type, const std::string& type_name, Requirements req,
                          std::string global_name, actor_cell* parent) {
  CreateActorRequest request;
  request.type_name = type_name;
  request.type_token = reinterpret_cast<std::uintptr_t>(type);
  request.image = image_identity();
  request.requirements = std::move(req);
  request.global_name = std::move(global_name);
  if (parent != nullptr) {
    // What can be told at once is thrown at once, as in process.
    if (type != nullptr) {
      if (auto unmet = unmet_requirement(*type, *core_.capabilities_snapshot(), request.requirements)) {
        throw NoCompatibleSystemForActor("no compatible actor system for actor type '" +
                                         type_name + "': it " + *unmet);
      }
    }
    request.parent = parent->address();
    if (request.global_name.empty()) {
      // The child's ids are chosen here, so its address exists before its process does.
      if (routing_of(*core_.capabilities_snapshot()).via_admin) {
        // Routed: the admin's system id; the admin picks the route (node::add_relay) when the
        // request passes through it, before it reads what this actor sends the child next.
        request.system_id = admin_.endpoint()->system_id();
        request.endpoint_id = new_routed_endpoint_id();
      } else {
        request.system_id = node::instance().new_route(route_kind_of_base(core_.base()));
        request.endpoint_id = new_actor_endpoint_id(request.system_id);
      }
      ActorAddress child(resolve_endpoint(request.system_id, request.endpoint_id));
      parent->send(admin_, std::move(request));
      parent->adopt(child);
      return child;
    }
    // A global name may be taken already, and only the admin knows: ask it, as from outside
    // (this actor waits for the answer; the name's owner, if any, is not its child).
  }
  auto reply = ask_blocking(core_, admin_, std::move(request), create_limit);
  if (!reply) {
    throw ActorSystemFailure("create_actor(" + type_name + "): the admin did not answer within " +
                             std::to_string(create_limit.count()) + " s");
  }
  const auto& answer = reply->as<CreateActorReply>();
  switch (answer.error_kind) {
    case CreateActorReply::none:
      return answer.created;
    case CreateActorReply::invalid_specification:
      throw InvalidActorSpecification(answer.error);
    case CreateActorReply::no_compatible_system:
      throw NoCompatibleSystemForActor(answer.error);
    default:
      throw ActorSystemFailure(answer.error);
  }
}

void link::request_system_shutdown() { core_.send(ActorAddress{}, admin_, ShutdownSystem{}); }

void link::forward_dead_letter(const ActorAddress& to, Message message,
                               const ActorAddress& sender) {
  core_.send(sender, admin_, DeadEnvelope{to, std::move(message)});
}

void link::set_dead_letter_handler(const ActorAddress& handler, bool start) {
  core_.send(ActorAddress{}, admin_, SetDeadLetterHandler{handler, start});
}

SystemStatus link::status() {
  auto reply = ask_blocking(core_, admin_, SystemStatusQuery{}, create_limit);
  if (!reply || !reply->is<SystemStatus>()) {
    throw ActorSystemFailure("status(): the admin of this " + core_.base() +
                             " system did not answer");
  }
  return reply->as<SystemStatus>();
}

void link::update_capability(std::string name, std::optional<CapabilityValue> value, bool wait) {
  UpdateCapability update{std::move(name), std::move(value)};
  if (!wait) {
    core_.send(ActorAddress{}, admin_, std::move(update));
    return;
  }
  const std::string what = update.name;
  if (!ask_blocking(core_, admin_, std::move(update), create_limit)) {
    throw ActorSystemFailure("update_capability(" + what + "): the admin did not answer");
  }
}

void link::shutdown() {
  const bool daemon = has_port(route_kind_of_base(core_.base()));
  if (leave_running_ || (!process_ && !daemon)) return;
  // The admin may be gone already (SIGTERM; for a daemon, another program's shutdown()):
  // then there is nobody to ask, and asking would only wait for the timeout.
  const bool gone = daemon ? !something_listens(admin_.endpoint()->system_id())
                           : process_->admin && process_->admin->try_wait().has_value();
  if (!gone) {
    try {
      if (!ask_blocking(core_, admin_, ShutdownSystem{}, shutdown_limit)) {
        core_.log(LogLevel::warning, "the admin did not confirm the shutdown within " +
                                         std::to_string(shutdown_limit.count()) + " s");
      }
    } catch (const std::exception& e) {
      core_.log(LogLevel::warning,
                std::string("the admin did not shut down in order: ") + e.what());
    }
  }
  process_.reset();
}

}  // namespace thespian::detail::multiproc
