// The "thespian-actor" host entry: what an actor process of a multi-process system runs. It
// hosts exactly one actor in a system of its own that listens on the route of the ids its
// creator chose, answers the admin once the actor is constructed (or why it is not), and ends
// when the actor has exited — after the messages it sent last (ChildActorExited to its parent,
// among them) have their outcome, and after saying goodbye to the admin, which then knows that
// the parent has already been told.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <asio/posix/stream_descriptor.hpp>

#include "core/actor_registry.hpp"
#include "system/multiproc/node.hpp"
#include "system/multiproc/protocol.hpp"
#include "system/multiproc/status_signal.hpp"
#include "system/multiproc/system_route.hpp"
#include "system/process/bootstrap.hpp"
#include "system/process/child_guard.hpp"
#include "system/process/host_entry.hpp"
#include "system/system_core.hpp"

namespace thespian::detail::multiproc {
namespace {

constexpr auto answer_limit = std::chrono::seconds(10);
constexpr auto flush_limit = std::chrono::seconds(5);

void answer(int socket, process::bootstrap_reply::outcome result, std::string detail) {
  process::write_bootstrap(socket, process::bootstrap_reply{result, std::move(detail)},
                           std::chrono::steady_clock::now() + answer_limit);
}

// The admin going away (EOF on the bootstrap socket) takes the process with it, whatever the
// actor is doing. Watched on the io_context (run by the process's main thread, caller_driver)
// rather than by a thread of its own (process::exit_when_parent_closes), which each actor
// process would pay for at its start. An actor that keeps that thread busy delays the check,
// not the end: the death signal (PR_SET_PDEATHSIG, through the forkserver) kills the process
// anyway.
void exit_when_admin_closes(asio::io_context& io, int socket) {
  const int fd = ::fcntl(socket, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    process::exit_when_parent_closes(socket);
    return;
  }
  // Never destroyed: the process ends with _exit here, or soon after its actor exited, and
  // only the thread running the io_context may touch it.
  auto* watched = new asio::posix::stream_descriptor(io, fd);
  struct on_readable {
    asio::posix::stream_descriptor* watched;
    void operator()(std::error_code ec) const {
      if (ec == asio::error::operation_aborted) return;  // the io_context is going away
      char byte = 0;
      const auto n = ::recv(watched->native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (!ec && (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))) {
        // Not a close (the admin sends nothing after the bootstrap). A new wait here could miss
        // a close that came in between (epoll edge-triggered): a polling thread takes over.
        process::exit_when_parent_closes(watched->native_handle());
        return;
      }
      std::fflush(nullptr);
      ::_exit(process::host_exit_ok);
    }
  };
  watched->async_wait(asio::posix::stream_descriptor::wait_read, on_readable{watched});
}

int actor_process_entry(process::host_context& context) {
  // For ps, top and perf: an actor process among the program's other copies.
  ::prctl(PR_SET_NAME, "thespian-actor");
  node& transport = node::instance();  // first: decoding the spec resolves remote addresses
  const actor_spec spec = decode_actor_spec(context.argument);
  const CreateActorRequest& request = spec.request;
  const actor_type* type = request.image == image_identity()
                               ? reinterpret_cast<const actor_type*>(request.type_token)
                               : find_actor_type(request.type_name);
  if (type == nullptr) {
    answer(context.socket, process::bootstrap_reply::outcome::unknown_entry,
           "no actor type is registered under the name '" + request.type_name +
               "' in this program (use THESPIAN_ACTOR)");
    return process::host_exit_unknown_entry;
  }
  // Admin Routing: the actor has the admin's system id and this process's endpoints lie in
  // the actor's block (system_route.hpp); request.system_id is then only the process's route.
  const auto how = routing_of(spec.capabilities);
  const std::uint64_t core_id = how.via_admin ? spec.admin_system_id : request.system_id;
  if (how.via_admin) transport.set_routed(spec.admin_system_id, how.outbound_only);
  auto core = std::make_shared<system_core>(
      spec.base, spec.capabilities, options_logging_to(spec.logging), process_role::member,
      core_id, how.via_admin ? request.endpoint_id : 0);
  // One thread: this one runs the actor (caller_driver) and, before any channel exists, the
  // channels are put on the same io_context (a frame read is a handler of the actor's thread).
  // Its connections to other actor processes carry data both ways when it has a stream route
  // of its own (not Admin Routing, whose frames all pass through the admin).
  const route_kind own_kind = kind_of(request.system_id);
  const bool duplex = !how.via_admin &&
                      (own_kind == route_kind::unix_socket || own_kind == route_kind::tcp);
  transport.run_on(core->context(), duplex ? request.system_id : 0);
  try {
    core->join_admin(spec.admin_system_id, how.via_admin ? routed_control_id(request.endpoint_id)
                                                         : control_endpoint_id);
    // The actor's endpoint exists before the route opens: a frame that arrived in between
    // would find no target and be refused. Until then, senders' connects are retried.
    core->host_actor(*type, request.type_name, request.requirements, request.global_name,
                     request.parent, request.endpoint_id);
    if (kind_of(request.system_id) == route_kind::reverse) {
      // Outbound Only: no listening socket; the admin sends on the connection we dial.
      transport.attach_reverse(request.system_id, spec.admin_system_id, core);
    } else {
      transport.attach(request.system_id, core);
    }
  } catch (const std::exception& e) {
    answer(context.socket, process::bootstrap_reply::outcome::entry_failed, e.what());
    return process::host_exit_failed;
  }
  log_status_on_sigusr1(*core, "actor");
  answer(context.socket, process::bootstrap_reply::outcome::ready, {});
  exit_when_admin_closes(core->context(), context.socket);
  core->driver().wait_until([&core] { return core->actor_count() == 0; },
                            std::chrono::steady_clock::time_point::max());
  transport.flush(std::chrono::steady_clock::now() + flush_limit);
  // Closing the route finishes its connections' work (on this thread), which acknowledges
  // what it delivered: a sender must not see a delivered message (an exit request) as lost.
  transport.detach(request.system_id);
  // The channels run on the core's io_context, which goes with the core.
  transport.close_channels();
  answer(context.socket, process::bootstrap_reply::outcome::ready, "exited");
  return process::host_exit_ok;
}

const process::host_entry_registrar actor_registrar("thespian-actor", &actor_process_entry);

}  // namespace
}  // namespace thespian::detail::multiproc
