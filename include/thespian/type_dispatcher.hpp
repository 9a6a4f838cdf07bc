// ActorTypeDispatcher: Thespian's typed dispatch. Each listed message type is routed, by exact
// type, to the Derived::on(...) overload for it; on() may return void or asio::awaitable<void>.
// Anything else goes to on_unrecognized (default: dropped and counted).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <type_traits>

#include <asio/awaitable.hpp>

#include "thespian/actor.hpp"

namespace thespian {

template <class Derived, class... Handled>
class ActorTypeDispatcher : public Actor {
 public:
  asio::awaitable<void> receive(Message message, ActorAddress sender) final {
    std::optional<asio::awaitable<void>> pending;
    const bool handled = (try_handle<Handled>(message, sender, pending) || ...);
    if (!handled) {
      static_cast<Derived&>(*this).on_unrecognized(message, sender);
    } else if (pending) {
      co_await std::move(*pending);
    }
  }

  // Called for a message of no listed type. Derived may hide it with its own.
  void on_unrecognized(const Message&, const ActorAddress&) {
    unrecognized_.fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t unrecognized_count() const noexcept {
    return unrecognized_.load(std::memory_order_relaxed);
  }

 private:
  // A synchronous on() runs here; an asynchronous one is created here (coroutines start
  // suspended) and awaited by receive(), so dispatch costs one frame, not one per type.
  template <class T>
  bool try_handle(const Message& message, const ActorAddress& sender,
                  std::optional<asio::awaitable<void>>& pending) {
    const T* value = message.get<T>();
    if (!value) return false;
    auto& self = static_cast<Derived&>(*this);
    if constexpr (std::is_void_v<decltype(self.on(*value, sender))>) {
      self.on(*value, sender);
    } else {
      pending.emplace(self.on(*value, sender));
    }
    return true;
  }

  std::atomic<std::uint64_t> unrecognized_{0};
};

}  // namespace thespian
