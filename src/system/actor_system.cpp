// ActorSystem and ExternalContext: the public faces of a system_core for code outside the
// actors. On simpleSystemBase each call also runs the actors on the calling thread.
#include "thespian/actor_system.hpp"

#include "core/actor_registry.hpp"
#include "system/external_endpoint.hpp"
#include "system/process/host_marker.hpp"
#include "system/system_core.hpp"

namespace thespian {

namespace detail {

asio::any_io_executor executor_of(system_core& core) { return core.context().get_executor(); }

void start_async_ask(system_core& core, const ActorAddress& to, Message message,
                     std::chrono::nanoseconds timeout, ask_callback done) {
  core.start_async_ask(to, std::move(message), timeout, std::move(done));
}

}  // namespace detail

// ---------------------------------------------------------------- ExternalContext

ExternalContext::ExternalContext(std::shared_ptr<detail::system_core> core,
                                 detail::endpoint_ref<detail::external_endpoint> endpoint)
    : core_(std::move(core)), endpoint_(std::move(endpoint)), address_(endpoint_) {}

ExternalContext::ExternalContext(ExternalContext&&) noexcept = default;
ExternalContext& ExternalContext::operator=(ExternalContext&&) noexcept = default;

ExternalContext::~ExternalContext() {
  if (endpoint_ && core_ && endpoint_ != core_->default_endpoint()) endpoint_->close();
}

ActorAddress ExternalContext::create_actor_of(const detail::actor_type& type, Requirements req,
                                              std::string global_name) {
  core_->ensure_running("create_actor");
  return core_->create_actor(type, std::move(req), std::move(global_name), nullptr);
}

ActorAddress ExternalContext::create_actor(std::string_view type_name, Requirements req,
                                           std::string global_name, std::string source_hash) {
  core_->ensure_running("create_actor");
  return core_->create_actor(type_name, std::move(req), std::move(global_name), source_hash,
                             nullptr);
}

void ExternalContext::tell(const ActorAddress& to, Message message) {
  core_->ensure_running("tell");
  core_->send(address_, to, std::move(message));
  core_->driver().run_until_quiet();
}

std::optional<Message> ExternalContext::ask(const ActorAddress& to, Message message,
                                            std::chrono::nanoseconds timeout) {
  core_->ensure_running("ask");
  const auto deadline = detail::deadline_after(timeout);
  core_->send_then_run(address_, to, std::move(message));
  return endpoint_->listen(deadline);
}

std::optional<Message> ExternalContext::listen(std::chrono::nanoseconds timeout) {
  core_->ensure_running("listen");
  return endpoint_->listen(detail::deadline_after(timeout));
}

const ActorAddress& ExternalContext::address() const { return address_; }

// ---------------------------------------------------------------- ActorSystem

ActorSystem::ActorSystem(std::string_view base, Capabilities caps, SystemOptions options)
    : core_(std::make_shared<detail::system_core>(base, std::move(caps), std::move(options))),
      external_(core_, core_->default_endpoint()) {
  core_->start();
}

ActorSystem::~ActorSystem() {
  if (core_) {
    core_->leave_admin_running();
    core_->shutdown();
  }
}

ActorAddress ActorSystem::create_actor(std::string_view type_name, Requirements req,
                                       std::string global_name, std::string source_hash) {
  return external_.create_actor(type_name, std::move(req), std::move(global_name),
                                std::move(source_hash));
}

void ActorSystem::tell(const ActorAddress& to, Message message) {
  external_.tell(to, std::move(message));
}

std::optional<Message> ActorSystem::ask(const ActorAddress& to, Message message,
                                        std::chrono::nanoseconds timeout) {
  return external_.ask(to, std::move(message), timeout);
}

std::optional<Message> ActorSystem::listen(std::chrono::nanoseconds timeout) {
  return external_.listen(timeout);
}

ExternalContext ActorSystem::private_context() {
  core_->ensure_running("private_context");
  return ExternalContext(core_, core_->new_external_endpoint());
}

void ActorSystem::update_capability(std::string name, std::optional<CapabilityValue> value) {
  core_->ensure_running("update_capability");
  core_->update_capability(std::move(name), std::move(value));
  core_->driver().run_until_quiet();
}

Capabilities ActorSystem::capabilities() const { return core_->capabilities(); }

std::string ActorSystem::load_actor_source(const std::filesystem::path& shared_library) {
  core_->ensure_running("load_actor_source");
  throw InvalidActorSourceHash("loadable sources are not supported on " + core_->base() + " (" +
                               shared_library.string() + ")");
}

void ActorSystem::unload_actor_source(const std::string& source_hash) {
  core_->ensure_running("unload_actor_source");
  throw InvalidActorSourceHash("no loaded source has hash '" + source_hash + "'");
}

SystemStatus ActorSystem::status(std::chrono::nanoseconds) {
  core_->ensure_running("status");
  return core_->status();
}

void ActorSystem::shutdown() { core_->shutdown(); }

std::string_view ActorSystem::base() const { return core_->base(); }

void serve_actor_process(int, char**) {
  // A copy started by the `spawn` method finds its marker in the environment (argv only shows
  // it to `ps`) and never returns from here; any other process returns at once, remembering
  // that the hook is installed so that `spawn` may serve as the default method.
  detail::process::serve_if_actor_host();
}

}  // namespace thespian
