// The TCP side of thespian-kv: an acceptor on 127.0.0.1 and one coroutine per connection, all on
// the server's own asio::io_context (separate from the actor system's threads).
#pragma once

#include <cstddef>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "commands.hpp"
#include "resp.hpp"

namespace kv {

// Serves one client until it disconnects, sends QUIT, or sends malformed protocol (answered with
// "-ERR Protocol error: ..." before the connection is closed). Pipelined commands are answered
// in order, with one write per read; their asks overlap (see pipeline.hpp). Everything it owns lives in its coroutine frame, so a client
// that vanishes mid-command leaves nothing behind.
asio::awaitable<void> serve(asio::ip::tcp::socket socket, Store& store, RespLimits limits);

// Accepts connections until the acceptor is closed, spawning serve() for each.
asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, Store& store,
                                  RespLimits limits);

}  // namespace kv
