// Host entries and actor types that the tests' child processes run. Registered at static
// initialisation, so spawned copies of the test binary know them too.
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <string>

#include "support.hpp"
#include "system/process/host_entry.hpp"
#include "system/process/local_socket.hpp"
#include "system/process/process_launcher.hpp"
#include "thespian/actor.hpp"

namespace process_test {
namespace {

namespace proc = thespian::detail::process;

// Answers each text with "echo:<text>" until the parent closes the socket.
int echo(proc::host_context& context) {
  for (;;) {
    const std::string text = receive_text(context.socket, clock_type::time_point::max());
    if (text.empty()) return 0;
    send_text(context.socket, "echo:" + text);
  }
}

int exit_with(proc::host_context& context) { return std::stoi(context.argument); }

// Never looks at its socket: only the death signal can end it early.
int sleep_forever(proc::host_context&) {
  for (;;) ::pause();
}

// A stand-in for an admin: starts a grandchild by the method named in the argument, reports
// "<grandchild pid> <forkserver pid or 0>", and stays until its own parent goes.
int middle(proc::host_context& context) {
  const auto method = proc::parse_startup_method(context.argument);
  if (!method) throw std::invalid_argument("no startup method " + context.argument);
  proc::child_process grandchild = proc::launch_actor_process(*method);
  proc::start_actor_host(grandchild, proc::bootstrap_request{"process_test.sleep_forever", ""},
                         clock_type::now() + generous);
  const auto server = proc::shared_forkserver();
  send_text(context.socket, std::to_string(grandchild.pid()) + " " +
                                std::to_string(server ? server->pid() : 0));
  proc::wait_for_peer_close(context.socket);
  return 0;
}

const proc::host_entry_registrar echo_entry("process_test.echo", echo);
const proc::host_entry_registrar exit_entry("process_test.exit_with", exit_with);
const proc::host_entry_registrar sleep_entry("process_test.sleep_forever", sleep_forever);
const proc::host_entry_registrar middle_entry("process_test.middle", middle);

}  // namespace

struct idle_actor : thespian::Actor {
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }
};

struct throwing_actor : thespian::Actor {
  throwing_actor() { throw std::runtime_error("no GPU here"); }
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }
};

}  // namespace process_test

THESPIAN_ACTOR(process_test::idle_actor);
THESPIAN_ACTOR(process_test::throwing_actor);
