// 04-wakeups-and-dead-letters: wakeup_after(delay, payload) delivers a WakeupMessage to the actor
// itself no earlier than `delay` later (here the payload remembers whom to answer), and a message
// to an actor that has exited becomes a dead letter, delivered as DeadEnvelope to the actor that
// called handle_dead_letters(). Exits 0 only if the wakeup came late enough with its payload and
// exactly the expected dead letter was seen.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>

#include <thespian/thespian.hpp>

using namespace std::chrono_literals;

namespace timers {

// "nap" -> after 100 ms (a wakeup), answers "rested" to whoever asked.
class Sleeper
    : public thespian::ActorTypeDispatcher<Sleeper, std::string, thespian::WakeupMessage> {
 public:
  void on(const std::string& command, const thespian::ActorAddress& from) {
    if (command == "nap") wakeup_after(100ms, from);  // the payload: whom to answer
  }
  void on(const thespian::WakeupMessage& w, const thespian::ActorAddress&) {
    if (const auto* asker = w.payload.get<thespian::ActorAddress>()) send(*asker, "rested");
  }
};

// "start" registers it as the dead-letter handler; any string answers with the count so far.
class DeadLetterCounter
    : public thespian::ActorTypeDispatcher<DeadLetterCounter, std::string, thespian::DeadEnvelope> {
 public:
  void on(const std::string& command, const thespian::ActorAddress& from) {
    if (command == "start") handle_dead_letters();
    send(from, count_);
  }
  void on(const thespian::DeadEnvelope& dead, const thespian::ActorAddress&) {
    const auto* text = dead.dead_message.get<std::string>();
    if (text && *text == "anyone there?") ++count_;
  }

 private:
  std::int64_t count_ = 0;
};

class Sink : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }
};

}  // namespace timers

int main() {
  thespian::ActorSystem sys("multithreadBase");

  // Wakeups.
  auto sleeper = sys.create_actor<timers::Sleeper>();
  const auto start = std::chrono::steady_clock::now();
  auto rested = sys.ask(sleeper, std::string("nap"), 5s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const bool wakeup_ok = rested && rested->is<std::string>() &&
                         rested->as<std::string>() == "rested" && elapsed >= 100ms;
  std::cout << "wakeup: " << (rested ? rested->as<std::string>() : "(none)") << " after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";

  // Dead letters.
  auto counter = sys.create_actor<timers::DeadLetterCounter>();
  sys.ask(counter, std::string("start"), 5s);
  auto sink = sys.create_actor<timers::Sink>();
  sys.tell(sink, thespian::ActorExitRequest{});
  sys.tell(sink, std::string("anyone there?"));  // sink has exited (or will): a dead letter
  // On multithreadBase the dead letter travels asynchronously: poll with a deadline.
  std::int64_t count = -1;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = sys.ask(counter, std::string("count"), 1s);
    count = reply && reply->is<std::int64_t>() ? reply->as<std::int64_t>() : -1;
    if (count >= 1) break;
    std::this_thread::sleep_for(10ms);
  }
  std::cout << "dead letters seen: " << count << "\n";
  sys.shutdown();
  return wakeup_ok && count == 1 ? 0 : 1;
}
