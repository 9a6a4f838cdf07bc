// 03-type-dispatcher: thespian::ActorTypeDispatcher routes each listed message type, by exact
// type, to the matching on(...) overload. Handlers may be plain functions or coroutines (here the
// coroutine one asks another actor). Anything unlisted goes to on_unrecognized, which this actor
// overrides to answer with the message's type name. Exits 0 only if every reply was right.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

#include <thespian/thespian.hpp>

using namespace std::chrono_literals;

namespace dispatch {

struct Add {
  std::int64_t a = 0, b = 0;
};
struct Multiply {
  std::int64_t a = 0, b = 0;
};
struct Square {  // answered by asking a helper actor with a Multiply
  std::int64_t n = 0;
};

class Multiplier : public thespian::ActorTypeDispatcher<Multiplier, Multiply> {
 public:
  void on(const Multiply& m, const thespian::ActorAddress& from) { send(from, m.a * m.b); }
};

class Calculator : public thespian::ActorTypeDispatcher<Calculator, Add, Multiply, Square> {
 public:
  void on(const Add& m, const thespian::ActorAddress& from) { send(from, m.a + m.b); }
  void on(const Multiply& m, const thespian::ActorAddress& from) { send(from, m.a * m.b); }
  asio::awaitable<void> on(const Square& s, const thespian::ActorAddress& from) {
    if (!helper_) helper_ = create_actor<Multiplier>();
    Multiply question{s.n, s.n};  // a named local: never Multiply{...} inside co_await
    std::optional<thespian::Message> answer = co_await ask(helper_, question, 1s);
    send(from, answer ? answer->as<std::int64_t>() : std::int64_t{-1});
  }
  // Hides the default (which drops and counts).
  void on_unrecognized(const thespian::Message& m, const thespian::ActorAddress& from) {
    send(from, "unrecognized: " + std::string(m.type_name()));
  }

 private:
  thespian::ActorAddress helper_;
};

std::int64_t as_int(const std::optional<thespian::Message>& m) {
  return m && m->is<std::int64_t>() ? m->as<std::int64_t>() : std::int64_t{-999};
}

}  // namespace dispatch

int main() {
  thespian::ActorSystem sys("multithreadBase");
  auto calc = sys.create_actor<dispatch::Calculator>();

  const std::int64_t sum = dispatch::as_int(sys.ask(calc, dispatch::Add{2, 3}, 2s));
  const std::int64_t product = dispatch::as_int(sys.ask(calc, dispatch::Multiply{4, 5}, 2s));
  const std::int64_t square = dispatch::as_int(sys.ask(calc, dispatch::Square{7}, 2s));
  auto other = sys.ask(calc, 3.5, 2s);  // a double: not listed
  const std::string other_text =
      other && other->is<std::string>() ? other->as<std::string>() : "(none)";

  std::cout << "Add{2,3} -> " << sum << "\nMultiply{4,5} -> " << product << "\nSquare{7} -> "
            << square << "\n3.5 -> " << other_text << "\n";
  sys.shutdown();
  const bool ok = sum == 5 && product == 20 && square == 49 &&
                  other_text.rfind("unrecognized: ", 0) == 0 &&
                  other_text.find("double") != std::string::npos;
  return ok ? 0 : 1;
}
