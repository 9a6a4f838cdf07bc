// 01-hello: the smallest Thespian program. It creates an ActorSystem (simpleSystemBase: actors
// run on the calling thread), creates one actor, asks it a question with the blocking ask(),
// checks the reply and shuts the system down. Exits 0 only if the reply was right.
#include <chrono>
#include <iostream>
#include <string>

#include <thespian/thespian.hpp>

using namespace std::chrono_literals;

namespace hello {

class Hello : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message message, thespian::ActorAddress sender) override {
    if (const auto* name = message.get<std::string>()) {
      send(sender, "Hello, " + *name + "!");
    }
    co_return;
  }
};

}  // namespace hello

THESPIAN_ACTOR(hello::Hello);

int main() {
  thespian::ActorSystem sys;  // "simpleSystemBase"
  thespian::ActorAddress actor = sys.create_actor<hello::Hello>();
  std::optional<thespian::Message> reply = sys.ask(actor, std::string("world"), 1s);
  const std::string text = reply && reply->is<std::string>() ? reply->as<std::string>() : "";
  std::cout << (reply ? text : std::string("(no reply)")) << "\n";
  sys.shutdown();
  return text == "Hello, world!" ? 0 : 1;
}
