// The driver of an actor process's system (process_role::member): no thread of its own. The
// process's main thread, which otherwise only waits for its actor to end, runs the io_context
// itself inside wait_until(); a thread less to start (stack, TLS, scheduling hops) for every
// actor process, which creation pays for (docs/design.md "The creation path").
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include "core/outbox.hpp"
#include "system/base_driver.hpp"

namespace thespian::detail {
namespace {

class caller_driver final : public base_driver {
 public:
  explicit caller_driver(asio::io_context& context)
      : context_(context), work_(asio::make_work_guard(context)) {}

  // Only the thread that runs the process: it runs the io_context until pred() holds. Also
  // from inside a handler (a nested run: the actor's blocking create of a globally named
  // actor waits here, link.cpp); the actor is not re-entered, being busy in that handler.
  // The work guard keeps run_one_until from returning early while the actor's loop is parked
  // with nothing outstanding.
  bool wait_until(const std::function<bool()>& pred, clock::time_point deadline) override {
    flush_gathered_sends_here();  // called from inside an actor: what it waits for may need them
    while (!pred()) {
      if (clock::now() >= deadline) return false;
      if (context_.stopped()) return pred();
      context_.run_one_until(deadline);
    }
    return true;
  }

  void run_until_quiet() override {}

  void notify() override {
    // A change made on another thread (a channel's) must wake the caller blocked in
    // run_one_until to check its predicate again; one made by a handler is seen on its return.
    if (!context_.get_executor().running_in_this_thread()) asio::post(context_, [] {});
  }

  void stop() override {
    work_.reset();
    context_.stop();
  }

  std::size_t thread_count() const override { return 0; }

 private:
  asio::io_context& context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
};

}  // namespace

std::unique_ptr<base_driver> make_caller_driver(asio::io_context& context) {
  return std::make_unique<caller_driver>(context);
}

}  // namespace thespian::detail
