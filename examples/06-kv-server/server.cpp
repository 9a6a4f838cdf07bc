// The TCP server: see server.hpp.
#include "server.hpp"

#include "pipeline.hpp"

#include <array>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace kv {

asio::awaitable<void> serve(asio::ip::tcp::socket socket, Store& store, RespLimits limits) {
  RespParser parser(limits);
  std::vector<std::string> args;
  std::vector<std::vector<std::string>> commands;  // complete ones from the latest read
  std::string out;
  std::array<char, 16 * 1024> chunk;
  try {
    socket.set_option(asio::ip::tcp::no_delay(true));
    for (;;) {
      const std::size_t n =
          co_await socket.async_read_some(asio::buffer(chunk), asio::use_awaitable);
      parser.feed(std::string_view(chunk.data(), n));
      bool protocol_error = false;
      for (;;) {
        const RespParser::Status status = parser.next(args);
        if (status == RespParser::Status::need_more) break;
        if (status == RespParser::Status::error) {
          protocol_error = true;
          break;
        }
        if (args.empty()) continue;  // empty inline line or "*0"
        commands.push_back(std::move(args));
        args.clear();
      }
      bool close = false;
      if (commands.size() == 1) {
        close = co_await execute(store, std::move(commands.front()), out) == After::close;
      } else if (!commands.empty()) {
        close = co_await execute_pipeline(store, std::move(commands), out) == After::close;
      }
      commands.clear();
      if (protocol_error && !close) {  // the commands before the bad bytes are answered first
        append_error(out, "ERR Protocol error: " + parser.error());
        close = true;
      }
      if (!out.empty()) {
        co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
        out.clear();
      }
      if (close) {
        std::error_code ignored;
        socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
        co_return;
      }
    }
  } catch (const std::system_error&) {
    // The client went away (EOF, reset) or the server is stopping: nothing to clean up beyond
    // this frame, which owns the socket and the buffers.
  } catch (const std::exception& e) {
    // An async_ask misuse, e.g. the actor system shut down under us.
    std::cerr << "thespian-kv: connection closed: " << e.what() << "\n";
  }
}

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, Store& store,
                                  RespLimits limits) {
  for (;;) {
    std::error_code ec;
    asio::ip::tcp::socket socket = co_await acceptor.async_accept(
        asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. EMFILE, a connection reset before accept: keep serving
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), store, limits),
                   asio::detached);
  }
}

}  // namespace kv
