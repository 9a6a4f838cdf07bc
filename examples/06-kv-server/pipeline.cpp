// The pipeline runner: see pipeline.hpp. A run of overlapping commands becomes at most one
// BatchRequest per shard (its GET/SET/INCR, in command order); the batches are asked together,
// joined with a steady_timer that never expires and is cancelled by the last reply (the usual
// Asio idiom for waiting on a dynamic number of operations), and the replies are then written in
// command order. Everything else in a run (PING, ECHO, arity errors, ...) asks no shard and goes
// through execute() as a single command would.
#include "pipeline.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "resp.hpp"
#include "shard.hpp"

namespace kv {
namespace {

bool runs_alone(const std::string& name) {
  return name == "mget" || name == "del" || name == "exists" || name == "quit";
}

// GET key, SET key value, INCR key with their right arity: batched. Anything else: not.
std::optional<KeyOp> as_key_op(const std::string& name, std::vector<std::string>& args) {
  if (name == "get" && args.size() == 2) return KeyOp{KeyOp::Kind::get, std::move(args[1]), {}};
  if (name == "incr" && args.size() == 2) return KeyOp{KeyOp::Kind::incr, std::move(args[1]), {}};
  if (name == "set" && args.size() == 3) {
    return KeyOp{KeyOp::Kind::set, std::move(args[1]), std::move(args[2])};
  }
  return std::nullopt;
}

// One command of a run: either batched (shard, position in that shard's batch, and for INCR
// its position among the batch's INCRs) or answered by execute().
struct Planned {
  std::vector<std::string> args;  // for execute(); empty when batched
  std::optional<KeyOp::Kind> kind;
  std::size_t shard = 0;
  std::size_t index = 0;
  std::size_t counter = 0;
};

struct Join {
  Join(const asio::any_io_executor& ex, std::size_t n)
      : all_done(ex, std::chrono::steady_clock::time_point::max()), left(n) {}
  asio::steady_timer all_done;
  std::size_t left;
  std::exception_ptr error;
};

// Completion of one co_spawned ask (a plain callable, not a coroutine lambda).
struct Finished {
  std::shared_ptr<Join> join;
  void operator()(std::exception_ptr error) const {
    if (error && !join->error) join->error = error;
    if (--join->left == 0) join->all_done.cancel();
  }
};

asio::awaitable<void> ask_shard(Store& store, std::size_t shard, BatchRequest request,
                                std::optional<thespian::Message>& reply) {
  thespian::Message message = std::move(request);
  reply = co_await store.system().async_ask(store.shard(shard), std::move(message),
                                            store.timeout(), asio::use_awaitable);
}

// Asks every non-empty batch at once and waits for all the replies; rethrows the first failure.
asio::awaitable<void> ask_all(Store& store, std::vector<BatchRequest>& batches,
                              std::vector<std::optional<thespian::Message>>& replies) {
  std::size_t asks = 0;
  for (const auto& b : batches) asks += b.ops.empty() ? 0 : 1;
  if (asks == 0) co_return;
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto join = std::make_shared<Join>(ex, asks);
  for (std::size_t s = 0; s < batches.size(); ++s) {
    if (batches[s].ops.empty()) continue;
    asio::co_spawn(ex, ask_shard(store, s, std::move(batches[s]), replies[s]), Finished{join});
  }
  // No ask has started yet (co_spawn only queued them on this single-threaded executor), so
  // the cancel that ends this wait cannot come before it.
  std::error_code ignored;
  co_await join->all_done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  if (join->error) std::rethrow_exception(join->error);
}

void render(const Planned& p, const std::optional<thespian::Message>& reply, std::string& out) {
  const BatchReply* batch = reply ? reply->get<BatchReply>() : nullptr;
  if (!batch || p.index >= batch->values.size() ||
      (p.kind == KeyOp::Kind::incr && p.counter >= batch->counters.size())) {
    append_error(out, reply ? "ERR shard failure: unexpected " + reply->type_name()
                            : std::string("ERR shard timeout"));
    return;
  }
  switch (*p.kind) {
    case KeyOp::Kind::get:
      if (const auto& v = batch->values[p.index]) {
        append_bulk(out, *v);
      } else {
        append_null(out);
      }
      break;
    case KeyOp::Kind::set:
      append_simple(out, "OK");
      break;
    case KeyOp::Kind::incr: {
      const IncrReply& r = batch->counters[p.counter];
      if (r.value) {
        append_integer(out, *r.value);
      } else {
        append_error(out, r.error);
      }
      break;
    }
  }
}

asio::awaitable<void> flush_run(Store& store, std::vector<std::vector<std::string>>& run,
                                std::string& out) {
  if (run.empty()) co_return;
  std::vector<BatchRequest> batches(store.shard_count());
  std::vector<std::size_t> counters(store.shard_count(), 0);
  std::vector<Planned> plan;
  plan.reserve(run.size());
  for (auto& args : run) {
    Planned p;
    if (auto op = as_key_op(lower_ascii(args[0]), args)) {
      p.kind = op->kind;
      p.shard = store.shard_index(op->key);
      p.index = batches[p.shard].ops.size();
      if (op->kind == KeyOp::Kind::incr) p.counter = counters[p.shard]++;
      batches[p.shard].ops.push_back(std::move(*op));
    } else {
      p.args = std::move(args);
    }
    plan.push_back(std::move(p));
  }
  run.clear();
  std::vector<std::optional<thespian::Message>> replies(store.shard_count());
  co_await ask_all(store, batches, replies);
  for (Planned& p : plan) {
    if (p.kind) {
      render(p, replies[p.shard], out);
    } else {
      // Asks no shard (only QUIT would close, and QUIT never joins a run).
      (void)co_await execute(store, std::move(p.args), out);
    }
  }
}

}  // namespace

asio::awaitable<After> execute_pipeline(Store& store, std::vector<std::vector<std::string>> commands,
                                        std::string& out) {
  std::vector<std::vector<std::string>> run;
  std::size_t run_bytes = 0;  // a run's batches stay within the store's request limit
  for (auto& args : commands) {
    const std::size_t bytes = request_bytes(args);
    if (!runs_alone(lower_ascii(args[0])) && store.fits(bytes)) {
      if (!store.fits(run_bytes + bytes)) {
        co_await flush_run(store, run, out);
        run_bytes = 0;
      }
      run_bytes += bytes;
      run.push_back(std::move(args));
      continue;
    }
    co_await flush_run(store, run, out);  // then the command alone (execute refuses it if too big)
    run_bytes = 0;
    const After after = co_await execute(store, std::move(args), out);
    if (after == After::close) co_return After::close;
  }
  co_await flush_run(store, run, out);
  co_return After::keep_open;
}

}  // namespace kv
