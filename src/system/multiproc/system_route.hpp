// Where a system lives, read from its id alone: the top byte of a system id says how other
// processes reach it (in-process ids from a counter have 0 there and are reachable by nobody
// else), and the rest names it. A multi-process system's id is random, so ids never repeat
// across processes, and its route (an abstract UNIX socket) follows from the id: an address on
// the wire stays (system id, endpoint id) and any process can dial it without a directory.
#pragma once

#include <cstdint>
#include <string>

#include <asio/local/stream_protocol.hpp>

namespace thespian::detail::multiproc {

enum class route_kind : std::uint8_t {
  in_process = 0,   // not reachable from another process
  unix_socket = 1,  // this host: an abstract UNIX stream socket named after the id
};

route_kind kind_of(std::uint64_t system_id) noexcept;
// A fresh random id of that kind (never 0, never repeats in practice: 56 random bits).
std::uint64_t new_system_id(route_kind kind);

// The abstract socket ("\0thespian-<id in hex>") of a unix_socket system.
asio::local::stream_protocol::endpoint unix_route(std::uint64_t system_id);
// "unix:<id in hex>", for addresses' printable form and messages.
std::string describe_route(std::uint64_t system_id);

// The same number in this process and in every fork of it, and (in practice) a different one in
// a process that merely runs the same binary: a function pointer of this process means the same
// function in a process with the same identity. Built from every loaded object's base address.
std::uint64_t image_identity();

}  // namespace thespian::detail::multiproc
