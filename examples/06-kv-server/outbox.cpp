// The outbox: see outbox.hpp. A flush is posted behind the completions that the event loop has
// already queued (the other connections' reads of this turn), so it collects their commands too.
#include "outbox.hpp"

#include <exception>
#include <memory>

#include <asio/bind_executor.hpp>
#include <asio/post.hpp>

#include "commands.hpp"

namespace kv {
namespace {

// The completion of one batch ask: hands each waiting command its result (plain callable).
struct BatchDone {
  std::shared_ptr<std::vector<KeyOp::Kind>> kinds;
  std::shared_ptr<std::vector<thespian::detail::unique_function<void(OpResult)>>> handlers;

  void operator()(std::exception_ptr error, std::optional<thespian::Message> reply) const {
    const BatchReply* batch = (!error && reply) ? reply->get<BatchReply>() : nullptr;
    std::string failure;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        failure = std::string("ERR shard failure: ") + e.what();
      } catch (...) {
        failure = "ERR shard failure";
      }
    } else if (!reply) {
      failure = "ERR shard timeout";
    } else if (!batch || batch->values.size() != kinds->size()) {
      failure = "ERR shard failure: unexpected " + reply->type_name();
    }
    std::size_t counter = 0;
    for (std::size_t i = 0; i < handlers->size(); ++i) {
      OpResult result;
      if (!failure.empty()) {
        result.error = failure;
      } else if ((*kinds)[i] == KeyOp::Kind::incr) {
        if (counter < batch->counters.size()) {
          result.counter = batch->counters[counter++];
        } else {
          result.error = "ERR shard failure: missing INCR result";
        }
      } else {
        result.value = batch->values[i];
      }
      (*handlers)[i](std::move(result));
    }
  }
};

}  // namespace

Outbox::Outbox(Store& store, asio::any_io_executor ex)
    : store_(store), ex_(std::move(ex)), waiting_(store.shard_count()) {}

void Outbox::enqueue(KeyOp op, Handler handler) {
  const std::size_t shard = store_.shard_index(op.key);
  const std::size_t bytes = op.key.size() + op.value.size() + 32;  // as request_bytes() counts
  Waiting& w = waiting_[shard];
  if (!w.ops.empty() && !store_.fits(w.bytes + bytes)) send_batch(shard);
  w.bytes += bytes;
  w.ops.push_back(std::move(op));
  w.handlers.push_back(std::move(handler));
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(ex_, [this] { flush(); });
  }
}

void Outbox::flush() {
  flush_posted_ = false;
  for (std::size_t s = 0; s < waiting_.size(); ++s) {
    if (!waiting_[s].ops.empty()) send_batch(s);
  }
}

void Outbox::send_batch(std::size_t shard) {
  Waiting& w = waiting_[shard];
  auto kinds = std::make_shared<std::vector<KeyOp::Kind>>();
  kinds->reserve(w.ops.size());
  for (const KeyOp& op : w.ops) kinds->push_back(op.kind);
  auto handlers = std::make_shared<std::vector<Handler>>(std::move(w.handlers));
  BatchRequest request;
  request.ops = std::move(w.ops);
  w.ops.clear();
  w.handlers.clear();
  w.bytes = 0;
  store_.system().async_ask(
      store_.shard(shard), thespian::Message(std::move(request)), store_.timeout(),
      asio::bind_executor(ex_, BatchDone{std::move(kinds), std::move(handlers)}));
}

}  // namespace kv
