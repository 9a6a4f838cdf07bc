// ExternalContext: a private endpoint into a system for code outside any actor (Thespian's
// asys.private()). Each context has its own replies, so threads or tasks that each hold one
// never see each other's answers.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/async_result.hpp>

#include "thespian/actor.hpp"
#include "thespian/address.hpp"
#include "thespian/capabilities.hpp"
#include "thespian/detail/async_ask.hpp"
#include "thespian/export.hpp"
#include "thespian/message.hpp"

namespace thespian {

namespace detail {
class external_endpoint;
}

class THESPIAN_EXPORT ExternalContext {
 public:
  ExternalContext(ExternalContext&&) noexcept;
  ExternalContext& operator=(ExternalContext&&) noexcept;
  ~ExternalContext();  // closes the endpoint: later replies to it become dead letters

  // Blocks until the actor exists; throws InvalidActorSpecification, NoCompatibleSystemForActor.
  template <class A>
  ActorAddress create_actor(Requirements req = {}, std::string global_name = {}) {
    return create_actor_of(detail::actor_type_of<A>(), std::move(req), std::move(global_name));
  }
  ActorAddress create_actor(std::string_view type_name, Requirements req = {},
                            std::string global_name = {}, std::string source_hash = {});

  // Sends from this endpoint; throws InvalidActorAddress for the null address.
  void tell(const ActorAddress& to, Message message);
  // tell + listen: the next message that reaches this endpoint, which need not be the reply.
  std::optional<Message> ask(const ActorAddress& to, Message message,
                             std::chrono::nanoseconds timeout);
  std::optional<Message> listen(std::chrono::nanoseconds timeout);

  // Correlated and non-blocking: each call has its own one-shot reply endpoint.
  // Completion signature void(std::exception_ptr, std::optional<Message>).
  template <class Token>
  auto async_ask(const ActorAddress& to, Message message, std::chrono::nanoseconds timeout,
                 Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr, std::optional<Message>)>(
        detail::async_ask_initiation{core_}, token, to, std::move(message), timeout);
  }

  const ActorAddress& address() const;  // this endpoint's address (what actors see as sender)

 private:
  friend class ActorSystem;
  ExternalContext(std::shared_ptr<detail::system_core> core,
                  detail::endpoint_ref<detail::external_endpoint> endpoint);
  ActorAddress create_actor_of(const detail::actor_type& type, Requirements req,
                               std::string global_name);

  std::shared_ptr<detail::system_core> core_;
  detail::endpoint_ref<detail::external_endpoint> endpoint_;
  ActorAddress address_;
};

}  // namespace thespian
