// 02-ask-from-coroutine: application coroutines on their own asio::io_context talk to actors with
// `co_await sys.async_ask(addr, msg, timeout, asio::use_awaitable)`. Each ask is correlated (its
// own reply address), so 50 concurrent asks never see each other's replies. An ask to an actor
// that never answers completes with std::nullopt at its timeout. Exits 0 only if every reply was
// right and the unanswered ask timed out.
//
// g++ 12 rules followed here: coroutines are named functions taking parameters by value (never a
// capturing coroutine lambda), and the message is a named local, never a temporary built inside
// the co_await expression.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <thespian/thespian.hpp>

using namespace std::chrono_literals;

namespace ask_demo {

// Doubles every std::int64_t it receives.
class Doubler : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message m, thespian::ActorAddress from) override {
    if (const auto* n = m.get<std::int64_t>()) send(from, *n * 2);
    co_return;
  }
};

// Never answers anything.
class Silent : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }
};

struct Results {
  int correct = 0;
  int timed_out = 0;
};

asio::awaitable<void> ask_double(thespian::ActorSystem& sys, thespian::ActorAddress doubler,
                                 std::int64_t n, Results& results) {
  thespian::Message question = n;  // a named local, never built inside co_await
  std::optional<thespian::Message> reply =
      co_await sys.async_ask(doubler, std::move(question), 5s, asio::use_awaitable);
  if (reply && reply->is<std::int64_t>() && reply->as<std::int64_t>() == 2 * n) ++results.correct;
}

asio::awaitable<void> ask_silent(thespian::ActorSystem& sys, thespian::ActorAddress silent,
                                 Results& results) {
  thespian::Message question = std::string("anyone?");
  std::optional<thespian::Message> reply =
      co_await sys.async_ask(silent, std::move(question), 200ms, asio::use_awaitable);
  if (!reply) ++results.timed_out;
}

}  // namespace ask_demo

int main() {
  thespian::ActorSystem sys("multithreadBase");
  auto doubler = sys.create_actor<ask_demo::Doubler>();
  auto silent = sys.create_actor<ask_demo::Silent>();

  asio::io_context app;  // the application's own event loop, one thread
  ask_demo::Results results;
  for (std::int64_t n = 1; n <= 50; ++n) {
    asio::co_spawn(app, ask_demo::ask_double(sys, doubler, n, results), asio::detached);
  }
  asio::co_spawn(app, ask_demo::ask_silent(sys, silent, results), asio::detached);
  app.run();

  std::cout << results.correct << " of 50 correlated replies correct, " << results.timed_out
            << " of 1 unanswered ask timed out\n";
  sys.shutdown();
  return results.correct == 50 && results.timed_out == 1 ? 0 : 1;
}
