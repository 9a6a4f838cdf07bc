// The knobs of every transport channel (stream and datagram): outbound queue marks, transmit
// timeout, reconnect back-off, read and frame size limits. Defaults follow Thespian's; each one
// can be overridden by a THESPIAN_* environment variable (from_environment lists the names).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <span>
#include <string_view>
#include <thread>

#include "transport/frame.hpp"

namespace asio {
class io_context;
}

namespace thespian::transport {

struct transport_settings {
  // Outbound queue per peer, counted in messages whose outcome is not known yet (queued or
  // written but not acknowledged). At high_water a sender blocks (a coroutine suspends) until
  // the queue is back at low_water; at hard_limit a send fails at once (outbound_queue_full).
  std::size_t high_water = 950;   // THESPIAN_QUEUE_HIGH_WATER   (Thespian: MAX_QUEUED_TRANSMITS)
  std::size_t low_water = 780;    // THESPIAN_QUEUE_LOW_WATER    (QUEUE_TRANSMIT_UNBLOCK_THRESHOLD)
  std::size_t hard_limit = 1050;  // THESPIAN_QUEUE_HARD_LIMIT   (DROP_TRANSMITS_LEVEL)
  // Messages written to a peer and not acknowledged yet, at most (Thespian's "20 in flight");
  // the rest wait in the queue until ACKs make room. Bounds what a lost connection can fail
  // and how far a sender runs ahead of its peer; pipelined throughput is at most
  // max_in_flight messages per round trip. 448: a full window of small frames (up to ~146
  // bytes, a 64-byte message's is 134) fits one 64 KiB read of the receiver, so it costs one
  // read, one ACK and one wake-up of each thread (docs/benchmarks.md, branch transport6: 256
  // was ~10% more CPU per message; windows past one read cost more wake-ups, not fewer).
  // Datagram channels cap it at 256 (a window must fit a UDP receive buffer).
  std::size_t max_in_flight = 448;  // THESPIAN_MAX_IN_FLIGHT     (Thespian: MAX_PENDING_TRANSMITS = 20)
  // A message not acknowledged this long after send() fails with send_status::failed.
  std::chrono::milliseconds transmit_timeout{std::chrono::minutes(5)};  // THESPIAN_TRANSMIT_TIMEOUT_MS
  // Reconnect back-off: first retry after reconnect_initial, doubling up to reconnect_max.
  std::chrono::milliseconds reconnect_initial{10};  // THESPIAN_RECONNECT_INITIAL_MS
  std::chrono::milliseconds reconnect_max{2000};    // THESPIAN_RECONNECT_MAX_MS
  // Datagram retransmit back-off (UDP): first resend after this, doubling up to reconnect_max.
  std::chrono::milliseconds retransmit_initial{20};  // THESPIAN_RETRANSMIT_INITIAL_MS
  // One read never takes more than this many bytes, so one busy peer cannot starve the others.
  std::size_t read_chunk = std::size_t{64} << 10;  // THESPIAN_READ_CHUNK_BYTES
  std::size_t max_stream_frame = default_max_stream_frame_size;  // THESPIAN_MAX_STREAM_FRAME_BYTES
  // For peers that never come back once gone (an actor process of the multi-process bases: its
  // route is never reused): a refused connect to a peer that was connected before means gone,
  // and so does not having connected within first_connect_grace; its messages then get
  // no_such_target at once instead of waiting for the transmit timeout. Off by default
  // (a restarted peer is then simply re-dialled).
  bool peers_never_return = false;
  std::chrono::milliseconds first_connect_grace{std::chrono::seconds(30)};
  // A TCP listener binds with SO_REUSEPORT: its port was reserved by another socket of the same
  // user that never listens (system/multiproc/system_route.hpp). Off by default: a port in use
  // then fails the bind.
  bool reuse_port = false;
  // A stream listener hands each incoming connection that opens with a hello frame (a peer that
  // cannot be dialled, dialling us so that we can send to it: stream_channel's reverse
  // constructor) to this handler, with the frame's key and the socket's descriptor, which the
  // handler then owns. Called on the listener's I/O thread. Empty: such connections are closed.
  std::function<void(std::uint64_t key, int fd)> on_hello;
  // Duplex connections (actor processes, stream channels). A sending channel with
  // duplex_route != 0 and a deliver handler opens each connection with an origin frame naming
  // that route (the endpoint its peers would dial to reach it), and delivers the data frames
  // the peer sends back on that connection. A listener hands a connection that opens with an
  // origin frame to on_origin, with the frame's key, the socket's descriptor and the bytes read
  // past that frame; true: the handler took the descriptor (stream_channel::adopt_duplex);
  // false: the listener goes on serving the connection as a one-way one. Called on the
  // listener's I/O thread. Empty: the origin frame is ignored.
  std::uint64_t duplex_route = 0;
  std::function<bool(std::uint64_t key, int fd, std::span<const char> rest)> on_origin;
  // Where protocol errors and connection losses are reported (the system points it at its log).
  // Called from a channel's I/O thread. Empty: standard error.
  std::function<void(std::string_view)> log;
  // A stream channel runs on this io_context, run by the thread `io_runner`, instead of on an
  // I/O thread of its own (an actor process: its actor and its channels share one thread, so
  // a frame read is handled without a hand-off between threads). The owner keeps `io` alive
  // and running until the channel is destroyed, and closes the channel on that thread. A
  // blocking send on that thread runs `io` while it waits (channel::send). Datagram channels
  // ignore it.
  asio::io_context* io = nullptr;
  std::thread::id io_runner;

  // The defaults above with every THESPIAN_* variable that is set applied. A value that is not a
  // positive integer, or marks that are not low_water < high_water <= hard_limit, throw
  // ActorSystemException naming the variable.
  static transport_settings from_environment(transport_settings defaults);
  static transport_settings from_environment();
  // Throws ActorSystemException when the marks are inconsistent.
  void validate() const;
  void report(std::string_view line) const;
};

}  // namespace thespian::transport
