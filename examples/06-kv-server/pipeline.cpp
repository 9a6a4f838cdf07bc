// The pipeline runner: see pipeline.hpp. Overlapping commands are co_spawned on the connection's
// executor; a steady_timer that never expires serves as the "all done" event (cancelled by the
// last one to finish), the usual Asio idiom for joining a dynamic number of operations.
#include "pipeline.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <system_error>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace kv {
namespace {

bool runs_alone(const std::vector<std::string>& args) {
  std::string name = args[0];
  for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return name == "mget" || name == "del" || name == "exists" || name == "quit";
}

struct Slot {
  std::vector<std::string> args;
  std::string out;
  After after = After::keep_open;
};

struct Join {
  explicit Join(const asio::any_io_executor& ex, std::size_t n)
      : all_done(ex, std::chrono::steady_clock::time_point::max()), left(n) {}
  asio::steady_timer all_done;
  std::size_t left;
  std::exception_ptr error;
};

// Completion of one co_spawned command (a plain callable, not a coroutine lambda).
struct Finished {
  std::shared_ptr<Join> join;
  void operator()(std::exception_ptr error) const {
    if (error && !join->error) join->error = error;
    if (--join->left == 0) join->all_done.cancel();
  }
};

asio::awaitable<void> execute_into(Store& store, Slot& slot) {
  slot.after = co_await execute(store, std::move(slot.args), slot.out);
}

// Runs every slot at once and waits for all of them; rethrows the first failure.
asio::awaitable<void> execute_together(Store& store, std::vector<Slot>& slots) {
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto join = std::make_shared<Join>(ex, slots.size());
  for (Slot& slot : slots) asio::co_spawn(ex, execute_into(store, slot), Finished{join});
  // No command has started yet (co_spawn only queued them on this thread's executor), so the
  // cancel that ends this wait cannot come before it.
  std::error_code ignored;
  co_await join->all_done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  if (join->error) std::rethrow_exception(join->error);
}

// Runs `run` (overlapping when there are several) and appends the replies in order.
asio::awaitable<After> flush_run(Store& store, std::vector<Slot>& run, std::string& out) {
  if (run.size() == 1) {
    co_await execute_into(store, run.front());
  } else if (run.size() > 1) {
    co_await execute_together(store, run);
  }
  After after = After::keep_open;
  for (Slot& slot : run) {
    out += slot.out;
    if (slot.after == After::close) {
      after = After::close;
      break;
    }
  }
  run.clear();
  co_return after;
}

}  // namespace

asio::awaitable<After> execute_pipeline(Store& store, std::vector<std::vector<std::string>> commands,
                                        std::string& out) {
  std::vector<Slot> run;
  for (auto& args : commands) {
    const bool alone = runs_alone(args);
    if (alone) {
      const After before = co_await flush_run(store, run, out);
      if (before == After::close) co_return After::close;
    }
    Slot slot;
    slot.args = std::move(args);
    run.push_back(std::move(slot));
    if (alone) {
      const After after = co_await flush_run(store, run, out);
      if (after == After::close) co_return After::close;
    }
  }
  const After last = co_await flush_run(store, run, out);
  co_return last;
}

}  // namespace kv
