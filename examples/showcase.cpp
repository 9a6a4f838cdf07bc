// The README's main job: a system on multithreadBase, a few actors, a blocking ask, and 100
// concurrent asks from coroutines with co_await async_ask, each printed as it arrives.
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

namespace showcase {

struct Greeting {
  std::string who;
};

// Answers every Greeting with a line of its own.
class Greeter : public thespian::ActorTypeDispatcher<Greeter, Greeting> {
 public:
  void on(const Greeting& g, const thespian::ActorAddress& from) {
    send(from, std::string("Hello, ") + g.who + "!");
  }
};

// Squares numbers, asking a Greeter along the way from inside the actor.
class Squarer : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message m, thespian::ActorAddress from) override {
    if (const auto* n = m.get<std::int64_t>()) {
      send(from, *n * *n);
    } else if (m.is<std::string>()) {
      if (!greeter_) greeter_ = create_actor<Greeter>();
      Greeting question{m.as<std::string>()};
      auto reply = co_await ask(greeter_, question, 1s);
      send(from, reply ? reply->as<std::string>() : std::string("(no answer)"));
    }
  }

 private:
  thespian::ActorAddress greeter_;
};

asio::awaitable<void> ask_square(thespian::ActorSystem& sys, thespian::ActorAddress squarer,
                                 std::int64_t n, int& answered) {
  auto reply = co_await sys.async_ask(squarer, n, 5s, asio::use_awaitable);
  if (reply && reply->as<std::int64_t>() == n * n) ++answered;
}

}  // namespace showcase

THESPIAN_ACTOR(showcase::Squarer);

int main(int argc, char** argv) {
  thespian::serve_actor_process(argc, argv);
  thespian::ActorSystem sys("multithreadBase");
  std::cout << "ActorSystem on " << sys.base() << " with "
            << thespian::to_string(sys.capabilities().at("Thread Count")) << " threads\n";

  auto squarer = sys.create_actor("showcase::Squarer");
  auto greeting = sys.ask(squarer, std::string("world"), 5s);
  std::cout << "ask -> " << (greeting ? greeting->as<std::string>() : "(timeout)") << "\n";

  asio::io_context app;  // the application's own event loop
  int answered = 0;
  for (std::int64_t n = 1; n <= 100; ++n) {
    asio::co_spawn(app, showcase::ask_square(sys, squarer, n, answered), asio::detached);
  }
  app.run();
  std::cout << "co_await async_ask -> " << answered << " of 100 correlated replies correct\n";

  std::cout << sys.status().format();
  sys.shutdown();
  return answered == 100 && greeting ? 0 : 1;
}
