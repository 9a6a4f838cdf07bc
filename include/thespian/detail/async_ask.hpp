// The completion-token plumbing behind ActorSystem::async_ask and ExternalContext::async_ask:
// the handler is type-erased into a one-shot callback, the library completes it exactly once
// from whichever thread sees the reply or the timeout, and the handler then runs on its own
// associated executor.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include "thespian/address.hpp"
#include "thespian/detail/unique_function.hpp"
#include "thespian/export.hpp"
#include "thespian/message.hpp"

namespace thespian::detail {

using ask_callback = unique_function<void(std::exception_ptr, std::optional<Message>)>;

// The system's own executor: where handlers without an associated executor complete.
THESPIAN_EXPORT asio::any_io_executor executor_of(system_core& core);
// Starts the ask; `done` is called exactly once, from any thread (or, on simpleSystemBase,
// before this returns).
THESPIAN_EXPORT void start_async_ask(system_core& core, const ActorAddress& to, Message message,
                                     std::chrono::nanoseconds timeout, ask_callback done);

struct async_ask_initiation {
  std::shared_ptr<system_core> core;

  template <class Handler>
  void operator()(Handler&& handler, ActorAddress to, Message message,
                  std::chrono::nanoseconds timeout) const {
    auto executor = asio::get_associated_executor(handler, executor_of(*core));
    auto work = asio::make_work_guard(executor);
    start_async_ask(
        *core, to, std::move(message), timeout,
        [handler = std::forward<Handler>(handler), work = std::move(work)](
            std::exception_ptr error, std::optional<Message> reply) mutable {
          auto target = work.get_executor();
          asio::post(target, [handler = std::move(handler), error,
                              reply = std::move(reply)]() mutable {
            std::move(handler)(error, std::move(reply));
          });
          work.reset();
        });
  }
};

}  // namespace thespian::detail
