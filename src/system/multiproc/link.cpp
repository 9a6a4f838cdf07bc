// Implements link.hpp. The admin is an ordinary actor in a process of its own; creating an
// actor from outside is a correlated ask to it, and so is shutting the system down.
#include "system/multiproc/link.hpp"

#include <future>

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

}  // namespace

struct link::admin_process {
  process::child_process child;
};

link::link(system_core& core, ActorAddress admin, std::unique_ptr<admin_process> process)
    : core_(core), admin_(std::move(admin)), process_(std::move(process)) {}

link::~link() = default;

std::unique_ptr<link> link::start_admin(system_core& core, process::startup_method method) {
  const std::uint64_t admin_id = new_system_id(route_kind::unix_socket);
  admin_spec spec{core.base(), core.capabilities(), admin_id};
  const auto deadline = std::chrono::steady_clock::now() + admin_start_limit;
  auto started = std::make_unique<admin_process>(
      admin_process{process::launch_actor_process(method)});
  try {
    process::start_actor_host(started->child, {"thespian-admin", encode_admin_spec(spec)},
                              deadline);
  } catch (const std::exception& e) {
    throw ActorSystemStartupFailure(std::string("the admin process did not start: ") + e.what());
  }
  // The admin answers once more when it listens (or says why it cannot).
  auto ready = process::read_bootstrap_reply(started->child.socket(), deadline);
  if (!ready.value || ready.value->result != process::bootstrap_reply::outcome::ready) {
    throw ActorSystemStartupFailure(
        "the admin process did not start: " +
        (ready.value ? ready.value->detail : std::string("it ended or did not answer in time")));
  }
  ActorAddress admin(resolve_endpoint(admin_id, actor_endpoint_id(admin_id)));
  return std::unique_ptr<link>(new link(core, std::move(admin), std::move(started)));
}

std::unique_ptr<link> link::to_admin(system_core& core, std::uint64_t admin_system_id) {
  ActorAddress admin(resolve_endpoint(admin_system_id, actor_endpoint_id(admin_system_id)));
  return std::unique_ptr<link>(new link(core, std::move(admin), nullptr));
}

ActorAddress link::create(const actor_type& type, const std::string& type_name, Requirements req,
                          std::string global_name, actor_cell* parent) {
  CreateActorRequest request;
  request.type_name = type_name;
  request.type_token = reinterpret_cast<std::uintptr_t>(&type);
  request.image = image_identity();
  request.requirements = std::move(req);
  request.global_name = std::move(global_name);
  if (parent != nullptr) {
    // The child's ids are chosen here, so its address exists before its process does.
    request.parent = parent->address();
    request.system_id = new_system_id(route_kind::unix_socket);
    request.endpoint_id = actor_endpoint_id(request.system_id);
    ActorAddress child(resolve_endpoint(request.system_id, request.endpoint_id));
    const bool named = !request.global_name.empty();
    parent->send(admin_, std::move(request));
    if (!named) parent->adopt(child);
    return child;
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

void link::shutdown() {
  if (!process_) return;
  try {
    (void)ask_blocking(core_, admin_, ShutdownSystem{}, shutdown_limit);
  } catch (const std::exception& e) {
    core_.log(LogLevel::warning, std::string("the admin did not shut down in order: ") + e.what());
  }
  // Closing our end tells the admin to end; it is killed if it does not.
  process_->child.take_socket().reset();
  if (!process_->child.wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
    process_->child.signal(SIGKILL);
    process_->child.wait_until(std::chrono::steady_clock::time_point::max());
  }
  process_.reset();
}

}  // namespace thespian::detail::multiproc
