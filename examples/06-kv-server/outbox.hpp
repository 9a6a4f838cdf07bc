// Combines the single GET, SET and INCR commands that many connections issue within one turn of
// the server's event loop into one BatchRequest per shard. Fifty clients that each wait for
// their reply then cost a few asks per turn instead of fifty: the thread hand-offs of an ask,
// not the map operations, are what a command costs.
//
// Order: a connection has one such command in flight at a time (it awaits the reply before
// reading on), and a shard applies a batch in order, so every connection still sees its own
// commands applied in the order it sent them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <thespian/thespian.hpp>

#include "shard.hpp"

namespace kv {

class Store;

// What the shard answered for one operation: `error` is set when the shard did not answer (a
// timeout, a failure) and the command should reply with it.
struct OpResult {
  std::optional<std::string> value;  // GET
  IncrReply counter;                 // INCR
  std::string error;
};

class Outbox {
 public:
  // `ex` is the server's event loop: submit() and the completions run there, one thread.
  Outbox(Store& store, asio::any_io_executor ex);

  // Completion signature void(OpResult). Call only on the server's event-loop thread.
  template <class Token>
  auto async_submit(KeyOp op, Token&& token) {
    return asio::async_initiate<Token, void(OpResult)>(Initiate{this}, token, std::move(op));
  }

 private:
  using Handler = thespian::detail::unique_function<void(OpResult)>;
  struct Initiate {
    Outbox* outbox;
    template <class H>
    void operator()(H&& handler, KeyOp op) const {
      outbox->enqueue(std::move(op), Handler(std::forward<H>(handler)));
    }
  };
  struct Waiting {
    std::vector<KeyOp> ops;
    std::vector<Handler> handlers;
    std::size_t bytes = 0;  // kept within the store's request limit
  };

  void enqueue(KeyOp op, Handler handler);
  void flush();
  void send_batch(std::size_t shard);

  Store& store_;
  asio::any_io_executor ex_;
  std::vector<Waiting> waiting_;  // per shard
  bool flush_posted_ = false;
};

}  // namespace kv
