// Where a system lives, read from its id alone: the top byte of a system id says how other
// processes reach it (in-process ids from a counter have 0 there and are reachable by nobody
// else), and the rest names it. An address on the wire stays (system id, endpoint id) and any
// process can dial it without a directory:
//  - unix_socket (multiprocQueueBase): the rest is random, so ids never repeat across
//    processes, and the route is an abstract UNIX socket named after the id.
//  - tcp (multiprocTCPBase): the rest is the IPv4 address and port the system listens on. A
//    port can be used again by a later process, so a TCP system's actor endpoint ids are random
//    (an old address then finds no endpoint in the new process and its messages come back
//    refused). A parent names its child before the child's process exists, so it reserves the
//    port first: it binds a socket without listening, with SO_REUSEPORT, and the child binds
//    the same port the same way and listens; the reservation is released once the child
//    listens (or failed to start).
//  - udp (multiprocUDPBase): as tcp, with UDP ports. A reservation is a UDP socket bound to port
//    0 without SO_REUSEPORT (with it, the kernel may hand out a port another such socket holds),
//    given SO_REUSEPORT once bound, and connect()ed to its own address: a connected UDP socket
//    only receives from its peer and the kernel never picks it for the others (reuseport
//    selection skips connected sockets), so it takes none of the child's datagrams.
//  - With "Admin Routing" (multiprocTCPBase), every actor of the system has the admin's system
//    id: senders dial only the Admin Port and the admin relays each frame to the actor's process
//    (node.cpp). An actor process then numbers all its endpoints inside a *block* of endpoint
//    ids (relay_block_of) that starts at its actor's id, so the admin finds the process of any
//    of its endpoints (a reply endpoint, its control endpoint) from the id alone. The route the
//    admin uses to reach that process is a TCP port the process listens on, or, with "Outbound
//    Only", a reverse route: the process dials the Admin Port itself and the admin sends on
//    that connection (reverse_peer); it opens no listening socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/local/stream_protocol.hpp>

#include "thespian/capabilities.hpp"

namespace thespian::detail::multiproc {

enum class route_kind : std::uint8_t {
  in_process = 0,   // not reachable from another process
  unix_socket = 1,  // this host: an abstract UNIX stream socket named after the id
  tcp = 2,          // IPv4 address and port
  udp = 3,          // IPv4 address and UDP port
  reverse = 4,      // an actor process that dials its admin (Outbound Only): random id
};

route_kind kind_of(std::uint64_t system_id) noexcept;
// tcp and udp: the id holds an address and port, which a later process may listen on again.
bool has_port(route_kind kind) noexcept;
// A fresh random id of that kind (never 0, never repeats in practice: 56 random bits).
std::uint64_t new_system_id(route_kind kind);

// The abstract socket ("\0thespian-<id in hex>") of a unix_socket system.
asio::local::stream_protocol::endpoint unix_route(std::uint64_t system_id);
// "unix:<id in hex>" or "tcp:<ip>:<port>", for addresses' printable form and messages.
std::string describe_route(std::uint64_t system_id);

// The route kind of the systems of a multi-process base ("multiprocTCPBase" -> tcp).
route_kind route_kind_of_base(std::string_view base);

// The id of the tcp system that listens on `ip`:`port`, and back.
std::uint64_t tcp_system_id(const asio::ip::address_v4& ip, std::uint16_t port);
asio::ip::tcp::endpoint tcp_route(std::uint64_t system_id);
// The same for any kind with a port (tcp, udp).
std::uint64_t port_system_id(route_kind kind, const asio::ip::address_v4& ip, std::uint16_t port);
asio::ip::udp::endpoint udp_route(std::uint64_t system_id);

// A new tcp system id on `ip` whose port this process holds (see above) until
// release_route(id): the system that will listen there binds it with SO_REUSEPORT. Throws
// ActorSystemStartupFailure when no port can be bound. Thread-safe.
std::uint64_t reserve_tcp_route(const asio::ip::address_v4& ip);
// reserve_tcp_route for either kind with a port (tcp, udp).
std::uint64_t reserve_port_route(route_kind kind, const asio::ip::address_v4& ip);
// Closes this process's reservation of that id's port, if it holds one. Thread-safe.
void release_route(std::uint64_t system_id);

// The endpoint id of the actor of a new system with that id (an actor process hosts one).
std::uint64_t new_actor_endpoint_id(std::uint64_t system_id);

// --- Admin Routing (see above)
// How a multiprocTCPBase system is reached: read from its "Admin Routing" and "Outbound Only"
// capabilities (Outbound Only implies Admin Routing).
struct routing {
  bool via_admin = false;
  bool outbound_only = false;
};
struct routing routing_of(const Capabilities& caps);
// A routed actor's endpoint id: random, its low relay_block_bits zero, clear of the admin's.
inline constexpr int relay_block_bits = 24;
std::uint64_t new_routed_endpoint_id();
inline std::uint64_t relay_block_of(std::uint64_t endpoint_id) noexcept {
  return endpoint_id >> relay_block_bits;
}
// Whether `endpoint_id` can lie in a routed actor process's block (not the admin's own ids).
bool is_routed_actor_block(std::uint64_t endpoint_id) noexcept;
// The control endpoint (protocol.hpp) of the routed actor process whose actor is `actor_id`.
inline std::uint64_t routed_control_id(std::uint64_t actor_id) noexcept {
  return actor_id | ((std::uint64_t{1} << relay_block_bits) - 1);
}
// The tcp peer a reverse route is known by in the admin's channel: an address in 0.0.0.0/8,
// which nobody can dial (stream_channel::await_dial_from), carrying 40 bits of the id.
asio::ip::tcp::endpoint reverse_peer(std::uint64_t system_id);
// The endpoint id of the admin actor of an admin system with that id: derived from the id
// alone, so that a program that knows only the Admin Port can address the admin. Neither
// collides with the small ids a system gives its own external and reply endpoints.
std::uint64_t admin_endpoint_id(std::uint64_t system_id);

// The same number in this process and in every fork of it, and (in practice) a different one in
// a process that merely runs the same binary: a function pointer of this process means the same
// function in a process with the same identity. Built from every loaded object's base address.
std::uint64_t image_identity();

}  // namespace thespian::detail::multiproc
