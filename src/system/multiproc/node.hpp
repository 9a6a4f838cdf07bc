// node: this process's attachment to the other processes of the multi-process bases. It owns
// one outgoing UNIX channel that carries every message to every other process, one listening
// channel per local multi-process system (its route, see system_route.hpp), and the remote
// endpoints that addresses of other processes resolve to. A frame that arrives is handed to its
// target's endpoint, whichever local system that belongs to; a message that cannot be delivered
// (the peer answered NACK, the transmit failed, its process is known to be dead) becomes a dead
// letter of the sender's system. Process-wide and thread-safe; created by the first
// multi-process system and kept until the process ends.
//
// Admin Routing (system_route.hpp): in an admin of a routed system, the node also relays. A
// frame for an endpoint of the admin's system that is not local is sent on to the actor
// process whose endpoint block holds it (the relay table: block -> that process's route); its
// sender's connection is answered ACK once the admin has taken it, and a NACK or loss further on
// becomes a dead letter at the admin (where every dead letter of the system ends anyway).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <asio/io_context.hpp>

#include "core/endpoint.hpp"
#include "system/multiproc/system_route.hpp"

namespace thespian::detail {
class system_core;
}

namespace thespian::detail::multiproc {

class node {
 public:
  // The process's node; the first call installs the remote resolver (core/endpoint.hpp).
  static node& instance();

  // Starts accepting frames on the route of `system_id` for the local system `core`, whose
  // dead letters this node reports to. Throws ActorSystemStartupFailure when the route is taken.
  // A TCP route is bound with SO_REUSEPORT (its port was reserved, see system_route.hpp)
  // unless `exclusive` (an Admin Port: a second admin there must fail).
  void attach(std::uint64_t system_id, const std::shared_ptr<system_core>& core,
              bool exclusive = false);
  // A new system id of that kind for a system about to be started (a TCP one reserves its port
  // in this process, see system_route.hpp).
  std::uint64_t new_route(route_kind kind);
  // Outbound Only: the actor process with route `system_id` (kind reverse) listens nowhere; it
  // dials the admin of `admin_system_id` and receives its frames on that connection.
  void attach_reverse(std::uint64_t system_id, std::uint64_t admin_system_id,
                      const std::shared_ptr<system_core>& core);
  // Stops listening on its route; frames still addressed there are refused by the OS.
  void detach(std::uint64_t system_id);

  // --- Admin Routing
  // Every actor of the system of `admin_system_id` has that system id (its actors are told
  // apart by endpoint alone): an actor of it that ended is that endpoint, never the route. In
  // the admin's own process this also turns on relaying (the relay table below).
  void set_routed(std::uint64_t admin_system_id, bool outbound_only);
  // The admin: the route of the process of the routed actor `actor_id`, chosen now (a reserved
  // port, or a reverse route the channel waits to be dialled on) unless it has one already.
  std::uint64_t add_relay(std::uint64_t actor_id);
  // The admin: that actor's process has ended; what waits for it becomes dead letters.
  void remove_relay(std::uint64_t actor_id);
  bool is_routed(std::uint64_t system_id) const;
  // The route this node relays endpoint `id` of system `system_id` to, or 0.
  std::uint64_t relay_route(std::uint64_t system_id, std::uint64_t id) const;

  // From now on, messages to endpoints of that system become dead letters at once.
  // The actor process of (system, actor endpoint) has ended: for a UNIX system, every endpoint
  // of it; for a TCP one only that endpoint (a new process may listen on the port later).
  void mark_dead(std::uint64_t system_id, std::uint64_t endpoint_id);
  bool is_dead(std::uint64_t system_id, std::uint64_t endpoint_id) const;
  // That system listens now (its admin said so): messages waiting for it go without waiting
  // out the reconnect back-off.
  void route_opened(std::uint64_t system_id);
  // A system attached in this process (its endpoints are local, never remote).
  bool is_local(std::uint64_t system_id) const;

  // remote_endpoint::deliver: hands the message to the outgoing channel. false when it cannot
  // go (dead system, internal envelope kind); throws what the channel throws (frame_too_large,
  // UnserializableMessage, outbound_queue_full) so the sender sees why.
  bool send(endpoint& to, envelope&& e);
  // The same through the route `route` (relaying: `to` has the admin's system id).
  bool send_via(std::uint64_t route, endpoint& to, envelope&& e);

  // Waits until every message this process sent has its outcome, or the deadline passes.
  bool flush(std::chrono::steady_clock::time_point deadline);

  // --- An actor process: one thread for its actor and its I/O
  // Before the first channel is made: this node's stream channels (listeners and outgoing)
  // run on `io`, run by the calling thread, instead of on I/O threads of their own. Delivering
  // an incoming frame is then a handler of the actor's own io_context. A send or flush() on
  // that thread that must wait keeps running `io` (channel::send). `duplex_route`, when not 0,
  // is this process's own stream route: its connections to other actor processes then carry
  // data both ways (stream_channel.hpp, "Duplex connections").
  void run_on(asio::io_context& io, std::uint64_t duplex_route = 0);
  // That thread, before `io` goes away: closes and destroys every stream channel (running `io`
  // until their work is done); messages sent from then on are dead letters.
  void close_channels();

  struct impl;
  ~node();

 private:
  node();
  std::unique_ptr<impl> impl_;
};

}  // namespace thespian::detail::multiproc
