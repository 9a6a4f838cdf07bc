// ActorSystem: the entry point. Chooses a system base by name, creates actors, and lets code
// outside the actors talk to them (tell / ask / listen, and async_ask for coroutines and other
// completion tokens).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "thespian/actor.hpp"
#include "thespian/address.hpp"
#include "thespian/capabilities.hpp"
#include "thespian/detail/async_ask.hpp"
#include "thespian/export.hpp"
#include "thespian/external_context.hpp"
#include "thespian/message.hpp"
#include "thespian/system_messages.hpp"
#include "thespian/system_options.hpp"

namespace thespian {

class THESPIAN_EXPORT ActorSystem {
 public:
  // base: "simpleSystemBase" (default) or "multithreadBase" (capability "Thread Count", default
  // the number of cores). Throws ActorSystemStartupFailure for an unknown or unavailable base.
  explicit ActorSystem(std::string_view base = "simpleSystemBase", Capabilities caps = {},
                       SystemOptions options = {});
  ~ActorSystem();
  ActorSystem(const ActorSystem&) = delete;
  ActorSystem& operator=(const ActorSystem&) = delete;

  // Blocks until the actor exists; throws InvalidActorSpecification (unknown name, constructor
  // threw: the message names both), NoCompatibleSystemForActor (names the unmet requirement).
  template <class A>
  ActorAddress create_actor(Requirements req = {}, std::string global_name = {}) {
    return external_.create_actor<A>(std::move(req), std::move(global_name));
  }
  ActorAddress create_actor(std::string_view type_name, Requirements req = {},
                            std::string global_name = {}, std::string source_hash = {});

  // These use the system's shared external endpoint (Thespian semantics): callable from any
  // thread; ask returns whatever next reaches the endpoint.
  void tell(const ActorAddress& to, Message message);
  std::optional<Message> ask(const ActorAddress& to, Message message,
                             std::chrono::nanoseconds timeout);
  std::optional<Message> listen(std::chrono::nanoseconds timeout);

  // Correlated, non-blocking; see ExternalContext::async_ask.
  //   auto reply = co_await sys.async_ask(addr, Greeting{"hi"}, 1s, asio::use_awaitable);
  template <class Token>
  auto async_ask(const ActorAddress& to, Message message, std::chrono::nanoseconds timeout,
                 Token&& token) {
    return external_.async_ask(to, std::move(message), timeout, std::forward<Token>(token));
  }

  // A new endpoint with replies of its own (one per thread or task that needs one).
  ExternalContext private_context();

  // nullopt removes the capability. Actors that no longer qualify get ActorExitRequest.
  void update_capability(std::string name, std::optional<CapabilityValue> value);
  Capabilities capabilities() const;
  std::string load_actor_source(const std::filesystem::path& shared_library);
  void unload_actor_source(const std::string& source_hash);
  SystemStatus status(std::chrono::nanoseconds timeout = std::chrono::seconds(5));
  // Stops every actor (children before parents). Idempotent; later calls to other members
  // throw ActorSystemFailure.
  void shutdown();

  std::string_view base() const;

 private:
  std::shared_ptr<detail::system_core> core_;
  ExternalContext external_;
};

// Optional first line of main() in programs whose actors run in other processes. Returns at
// once in any process that is not an actor host.
THESPIAN_EXPORT void serve_actor_process(int argc, char** argv);

}  // namespace thespian
