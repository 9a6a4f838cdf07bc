// 06-kv-server: thespian-kv, an actor-backed key-value server speaking enough RESP2 for
// redis-cli and redis-benchmark (PING, ECHO, SET, GET, DEL, INCR, MGET, EXISTS, QUIT, and the
// COMMAND / CONFIG GET replies clients ask for). It shows Thespian embedded in an async server:
// the TCP side runs on its own asio::io_context, and every command is a correlated
// `co_await sys.async_ask(shard, request, timeout, asio::use_awaitable)` to the shard actor that
// owns the key (std::hash of the key mod --shards).
//
//   thespian-kv [--port 6380] [--shards 4] [--base multithreadBase] [--threads N]
//
// --threads sets the actor pool's "Thread Count" on multithreadBase (default: the number of
// cores); the server's own event loop always has one more thread. --base multiprocQueueBase
// runs each shard in a process of its own (requests and replies then cross UNIX sockets, so
// shard.hpp's messages are serializable and registered); this program's main() therefore calls
// serve_actor_process() first, which turns a copy started to host a shard into that host.
//
// Binds 127.0.0.1 only (--port 0 picks a free port). Prints "listening on 127.0.0.1:PORT" once
// ready. SIGINT / SIGTERM stop it cleanly.
//
// Files: resp.* (protocol parsing and encoding), shard.* (the shard actor and its messages),
// commands.* (command dispatch), server.* (acceptor and per-connection coroutine), main.cpp.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <thespian/thespian.hpp>

#include "commands.hpp"
#include "outbox.hpp"
#include "server.hpp"

namespace {

struct Options {
  unsigned long port = 6380;
  unsigned long shards = 4;
  std::string base = "multithreadBase";
  unsigned long threads = 0;  // 0: the base's default
};

[[noreturn]] void usage(const char* why) {
  std::cerr << "thespian-kv: " << why
            << "\nusage: thespian-kv [--port N] [--shards N] [--base simpleSystemBase|"
               "multithreadBase|multiprocQueueBase] [--threads N]\n";
  std::exit(2);
}

unsigned long number(std::string_view flag, const char* text, unsigned long max) {
  char* end = nullptr;
  errno = 0;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value > max || text[0] == '-') {
    usage((std::string("bad value for ") + std::string(flag)).c_str());
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "-h" || flag == "--help") usage("help");
    if (i + 1 >= argc) usage((std::string("missing value for ") + argv[i]).c_str());
    const char* value = argv[++i];
    if (flag == "--port") {
      o.port = number(flag, value, 65535);
    } else if (flag == "--shards") {
      o.shards = number(flag, value, 4096);
      if (o.shards == 0) usage("--shards must be at least 1");
    } else if (flag == "--threads") {
      o.threads = number(flag, value, 256);
      if (o.threads == 0) usage("--threads must be at least 1");
    } else if (flag == "--base") {
      o.base = value;
    } else {
      usage((std::string("unknown option ") + argv[i - 1]).c_str());
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  thespian::serve_actor_process(argc, argv);  // an actor host (multi-process bases) stops here
  const Options options = parse_options(argc, argv);

  thespian::Capabilities caps;
  if (options.threads != 0) caps["Thread Count"] = static_cast<std::int64_t>(options.threads);
  thespian::ActorSystem sys(options.base, caps);
  kv::Store store(sys, options.shards);
  // On a multi-process base a request travels as one frame of at most 64 MiB (the transport's
  // limit; a larger one makes async_ask throw): refuse bigger commands, cut batches below it.
  if (sys.base().starts_with("multiproc")) store.limit_requests(std::size_t{32} << 20);

  asio::io_context io(1);  // the server's own event loop, one thread
  kv::Outbox outbox(store, io.get_executor());
  store.use_outbox(&outbox);
  asio::ip::tcp::acceptor acceptor(io);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                                         static_cast<unsigned short>(options.port));
  try {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::system_error& e) {
    std::cerr << "thespian-kv: cannot listen on 127.0.0.1:" << options.port << ": " << e.what()
              << "\n";
    return 1;
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    std::error_code ignored;
    acceptor.close(ignored);
    io.stop();  // open connections are dropped with their coroutine frames
  });

  asio::co_spawn(io, kv::accept_loop(acceptor, store, kv::RespLimits{}), asio::detached);
  std::cout << "thespian-kv: listening on 127.0.0.1:" << acceptor.local_endpoint().port() << " ("
            << options.shards << " shards on " << sys.base() << ")" << std::endl;
  // A request that cannot be sent completes its async_ask with the error (the command answers
  // it); should one of our handlers throw anyway, log it and run on, as Asio allows after a
  // handler threw.
  for (;;) {
    try {
      io.run();
      break;
    } catch (const thespian::ActorSystemException& e) {
      std::cerr << "thespian-kv: a request was not sent to its shard: " << e.what() << std::endl;
    }
  }
  sys.shutdown();
  std::cout << "thespian-kv: stopped" << std::endl;
  return 0;
}
