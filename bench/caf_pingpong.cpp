// CAF 0.17 side of the in-process ping-pong (see caf_pingpong.hpp): two event-based actors
// bounce a counter; a scoped actor starts them and waits for the end.
#include "caf_pingpong.hpp"

#include <chrono>

#include <caf/all.hpp>

namespace bench {
namespace {

using start_atom = caf::atom_constant<caf::atom("start")>;
using go_atom = caf::atom_constant<caf::atom("go")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

struct player_state {
  caf::actor starter;
};

caf::behavior player(caf::stateful_actor<player_state>* self) {
  return {
      [=](start_atom, caf::actor starter) { self->state.starter = starter; },
      [=](go_atom, caf::actor partner, std::int64_t n) { self->send(partner, n); },
      [=](std::int64_t n) {
        if (n == 0) {
          self->send(self->state.starter, done_atom::value);
          return;
        }
        self->send(caf::actor_cast<caf::actor>(self->current_sender()), n - 1);
      },
  };
}

}  // namespace

double caf_pingpong_ns(std::int64_t n, int threads) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", threads);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto ping = sys.spawn(player);
  auto pong = sys.spawn(player);
  self->send(ping, start_atom::value, caf::actor{self});
  self->send(pong, start_atom::value, caf::actor{self});
  const auto start = std::chrono::steady_clock::now();
  self->send(ping, go_atom::value, pong, n);
  self->receive([](done_atom) {});
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      static_cast<double>(n);
  self->send_exit(ping, caf::exit_reason::user_shutdown);
  self->send_exit(pong, caf::exit_reason::user_shutdown);
  return ns;
}

}  // namespace bench
