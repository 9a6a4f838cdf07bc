// The floors of the remote rows: the same 64 bytes between two processes over a raw socket of
// the kind a multi-process base uses (a UNIX stream socket pair for multiprocQueueBase, loopback
// TCP with Nagle off for multiprocTCPBase, two connected loopback UDP sockets for
// multiprocUDPBase), with blocking write/read and no framework. Used by the suite's remote rows
// (remote_workloads.cpp) and by bench/multiproc. The forked child only reads, writes and
// _exits, so the caller may have threads.
#pragma once

#include <cstdint>
#include <string>

#include "suite.hpp"

namespace bench::remote_floors {

enum class wire { unix_stream, tcp, udp };

// The wire of a multi-process base ("multiprocTCPBase" -> tcp, ...; anything else: unix_stream).
wire wire_of(const std::string& base);
const char* name_of(wire w);  // "unix", "tcp", "udp"

// A connected pair: loopback TCP (TCP_NODELAY on both ends), two connected loopback UDP sockets,
// or a UNIX stream socket pair. Throws std::runtime_error when the system refuses one.
void socket_pair(wire w, int sv[2]);

// 64 bytes there and back, `round_trips` times, to a forked echo process; one sample (ns) per
// round trip.
samples round_trips(wire w, std::int64_t round_trips);

// `messages` writes of 64 bytes each to a forked process over a stream, which answers one byte
// once it has read them all; ns per message. (No datagram version: without acknowledgements a
// datagram flood is not a floor of a reliable transport.)
samples stream(wire w, std::int64_t messages);

// A loopback port that was free for both TCP and UDP a moment ago (a daemon admin's Admin Port).
std::int64_t free_port();

}  // namespace bench::remote_floors
