// Actor: the base class of every actor, the protected calls it makes on the system from
// receive(), and THESPIAN_ACTOR / THESPIAN_ACTOR_REQUIRES, which register actor types by name
// and declare the capabilities they need.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include <asio/awaitable.hpp>

#include "thespian/address.hpp"
#include "thespian/capabilities.hpp"
#include "thespian/export.hpp"
#include "thespian/fwd.hpp"
#include "thespian/logger.hpp"
#include "thespian/message.hpp"

namespace thespian {

namespace detail {

// How the system makes an actor of one C++ type. One static instance per type.
struct actor_type {
  const std::type_info* type;
  std::unique_ptr<Actor> (*make)();
  // The type's static actor_system_capability_check, or nullptr when it declares none.
  bool (*check)(const Capabilities& system, const Requirements& requirements);
  // Constructs the actor in `where` (size bytes, aligned to align): the system puts it in the
  // same allocation as its cell, one allocation per actor instead of two.
  Actor* (*make_at)(void* where);
  std::size_t size;
  std::size_t align;
};

template <class A>
concept has_capability_check = requires(const Capabilities& c, const Requirements& r) {
  { A::actor_system_capability_check(c, r) } -> std::convertible_to<bool>;
};

template <class A>
const actor_type& actor_type_of() {
  static const actor_type type{
      &typeid(A), []() -> std::unique_ptr<Actor> { return std::make_unique<A>(); },
      [] {
        if constexpr (has_capability_check<A>) {
          return +[](const Capabilities& c, const Requirements& r) -> bool {
            return A::actor_system_capability_check(c, r);
          };
        } else {
          return static_cast<bool (*)(const Capabilities&, const Requirements&)>(nullptr);
        }
      }(),
      [](void* where) -> Actor* { return ::new (where) A(); }, sizeof(A), alignof(A)};
  return type;
}

THESPIAN_EXPORT void register_actor_type(const char* name, const actor_type& type);
THESPIAN_EXPORT void register_actor_requirement(const std::type_info& type, const char* name,
                                                std::optional<CapabilityValue> value);

template <class A>
struct actor_registrar {
  explicit actor_registrar(const char* name) { register_actor_type(name, actor_type_of<A>()); }
};

template <class A>
struct requirement_registrar {
  explicit requirement_registrar(const char* name) {
    register_actor_requirement(typeid(A), name, std::nullopt);
  }
  // Literal values keep their kind: "sm90" is a string, 0 and 8 are integers (not pointers).
  template <class V>
  requirement_registrar(const char* name, V&& value) {
    using T = std::decay_t<V>;
    if constexpr (std::is_same_v<T, bool>) {
      register_actor_requirement(typeid(A), name, CapabilityValue(value));
    } else if constexpr (std::is_integral_v<T>) {
      register_actor_requirement(typeid(A), name,
                                 CapabilityValue(static_cast<std::int64_t>(value)));
    } else if constexpr (std::is_convertible_v<T, const char*>) {
      const char* text = value;
      register_actor_requirement(typeid(A), name, CapabilityValue(std::string(text ? text : "")));
    } else {
      register_actor_requirement(typeid(A), name, CapabilityValue(std::forward<V>(value)));
    }
  }
};

}  // namespace detail

class THESPIAN_EXPORT Actor {
 public:
  Actor();
  virtual ~Actor();
  Actor(const Actor&) = delete;
  Actor& operator=(const Actor&) = delete;

  // One message at a time, on the actor's primary thread, in per-sender FIFO order. An
  // exception that escapes makes the system retry the message once, then poison it.
  virtual asio::awaitable<void> receive(Message message, ActorAddress sender) = 0;

  // Optional synchronous fast path (an extension: Thespian has no counterpart). Every message
  // is offered to on_message() first, with receive()'s guarantees (one at a time, on the
  // actor's primary thread; an exception is retried once, by offering the message again, then
  // poisoned). Return true when it handled the message; false (what the default does) passes
  // the message on to receive(). A handler that never needs co_await belongs here: it costs a
  // plain virtual call instead of a coroutine frame and two argument copies per message.
  virtual bool on_message(const Message& message, const ActorAddress& sender);

 protected:
  // Callable from receive() (not from the constructor: the actor has no address yet, and these
  // throw ActorSystemFailure there). send() and log() may also be called from any other thread
  // of the actor while it is alive.
  const ActorAddress& my_address() const;
  const std::string& global_name() const;  // "" when unnamed
  const Capabilities& system_capabilities() const;

  // Throws InvalidActorAddress for the null address.
  void send(const ActorAddress& to, Message message);

  // Returns at once; messages sent to the child are held until it runs. A constructor that
  // throws makes the parent receive ChildActorExited. Throws NoCompatibleSystemForActor and
  // InvalidActorSpecification (unknown name) when it can tell at once.
  template <class A>
  ActorAddress create_actor(Requirements req = {}, std::string global_name = {}) {
    return create_actor_of(detail::actor_type_of<A>(), std::move(req), std::move(global_name));
  }
  ActorAddress create_actor(std::string_view type_name, Requirements req = {},
                            std::string global_name = {}, std::string source_hash = {});

  // Correlated request/response. The actor takes no other message while it awaits
  // (they wait in its mailbox); std::nullopt on timeout.
  asio::awaitable<std::optional<Message>> ask(const ActorAddress& to, Message message,
                                              std::chrono::nanoseconds timeout);

  // Delivers WakeupMessage{delay, payload} from the actor itself no earlier than delay.
  void wakeup_after(std::chrono::nanoseconds delay, Message payload = {});
  void handle_dead_letters(bool start = true);
  void notify_on_system_registration_changes(bool start = true);
  void notify_on_source_availability(bool start = true);
  void register_source_authority();
  void update_capability(std::string name, std::optional<CapabilityValue> value);
  void pre_register_remote_system(std::string admin_address, Capabilities caps);
  void deregister_remote_system(std::string admin_address);
  std::string load_actor_source(const std::filesystem::path& shared_library);
  void unload_actor_source(const std::string& source_hash);
  // WatchMessage{{fd}} whenever `fd` (one of this actor's process, e.g. a socket or pipe it
  // opened) is readable, once per readiness: the next one comes after that message was
  // handled. Needs a base with "Thespian Watch Supported" (the multi-process bases), else
  // throws ActorSystemFailure. unwatch(fd) stops it; both end with the actor.
  void watch(int fd);
  void unwatch(int fd);
  void actor_system_shutdown();
  Logger& log();

 private:
  friend class detail::actor_cell;
  ActorAddress create_actor_of(const detail::actor_type& type, Requirements req,
                               std::string global_name);
  detail::actor_cell& cell() const;

  detail::actor_cell* cell_ = nullptr;  // set by the system once the actor has an address
  // Made on the first log() (most actors never log): 8 bytes per actor instead of 48.
  std::unique_ptr<Logger> log_;
};

}  // namespace thespian

// Registers an actor type by name, e.g. THESPIAN_ACTOR(app::Hello); so that any process or
// system can create it with create_actor("app::Hello").
#define THESPIAN_ACTOR(...)                                                                \
  namespace {                                                                              \
  const ::thespian::detail::actor_registrar<__VA_ARGS__> THESPIAN_DETAIL_UNIQUE(           \
      thespian_actor_registrar_)(#__VA_ARGS__);                                            \
  }                                                                                        \
  static_assert(true)

// THESPIAN_ACTOR_REQUIRES(app::Gpu, "GPU")          the capability must be truthy
// THESPIAN_ACTOR_REQUIRES(app::Gpu, "Arch", "sm90") the capability must equal the value
#define THESPIAN_ACTOR_REQUIRES(type, ...)                                                 \
  namespace {                                                                              \
  const ::thespian::detail::requirement_registrar<type> THESPIAN_DETAIL_UNIQUE(            \
      thespian_requirement_registrar_)(__VA_ARGS__);                                       \
  }                                                                                        \
  static_assert(true)
