// The stream transport: one channel over TCP (tcp_channel) or UNIX stream sockets
// (unix_channel), from one template. Each peer gets one persistent outgoing connection, reused
// for every message and re-dialled with exponential back-off after a loss. Data frames flow from
// the dialling side to the accepting side; the acceptor answers on the same connection with a
// NACK frame per refused message and, after each read, ONE cumulative ACK frame: "ACK n" means
// every data frame of this connection with sequence <= n that was not NACKed before was
// delivered. Messages written but not acknowledged when a connection is lost fail (they are
// never sent twice); messages not yet written wait for the next connection.
//
// Reverse connections, for a peer that listens nowhere (an Outbound Only actor process): that
// peer's channel (the reverse constructor) dials us and opens with a hello frame naming itself;
// our listener hands the socket to whoever settings.on_hello names, which adopts it into the
// sending channel as the connection to that peer (adopt; the peer was declared with
// await_dial_from, so it is never dialled). Then the roles are as on any connection: we send
// data frames and read ACK/NACKs, the peer delivers and answers.
//
// Duplex connections, between actor processes (transport_settings::duplex_route): the dialler
// opens with an origin frame naming its own route; the acceptor's listener hands such a
// connection to its sending channel (on_origin -> adopt_duplex), which then uses it as its
// connection to that route, unless it has one already. Each side then writes data frames and
// the answers it owes on the one socket, and reads both from it: an ACK leaves in the same
// send as the next frame to that peer (the reply, typically), or on its own once the handler
// that the delivery scheduled has run. A connection is judged once read to its end, as above,
// and that covers the answers of both directions.
//
// Threads: the channel owns one I/O thread (accepts, reads, ACKs, reconnects, timeouts, deliver
// and outcome handlers), or runs on an io_context its owner's thread runs
// (transport_settings::io: an actor process's, shared with its actor). Sends come from any thread: each frame is encoded into the sending
// thread's reused buffer and copied next to the peer's other unsent frames; the thread that
// finds the peer's transmit turn free writes them all (up to max_in_flight unacknowledged) in
// one send, and hands the rest to the I/O thread only when the socket buffer is full.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include <asio.hpp>

#include "transport/channel.hpp"
#include "transport/frame_decoder.hpp"
#include "transport/transport_settings.hpp"

namespace thespian::transport {

struct stream_channel_statistics {
  decoder_counters decoded;                // all inbound connections that have ended, and live ones
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_closed_on_error = 0;  // protocol errors (each also logged)
  std::uint64_t connects = 0;              // successful outgoing connects, reconnects included
};

template <class Protocol>
class stream_channel final : public channel<typename Protocol::endpoint> {
 public:
  using endpoint_type = typename Protocol::endpoint;

  // Listens on `listen_on` (TCP port 0 = chosen by the OS; a UNIX path is replaced if it
  // exists and removed on close) and hands data frames to `deliver` on the I/O thread.
  stream_channel(const endpoint_type& listen_on, deliver_handler deliver,
                 transport_settings settings = transport_settings::from_environment());
  // Send-only: no listening socket. With `deliver_back` and settings.duplex_route, its
  // connections are duplex: data frames the peer sends back on them go to `deliver_back`.
  explicit stream_channel(transport_settings settings = transport_settings::from_environment(),
                          deliver_handler deliver_back = {});
  // Receive-only, with no listening socket either (reverse): dials `dial_to` (retrying with
  // back-off until it connects), sends a hello frame carrying `hello_key`, then receives data
  // frames on that connection and answers them, as an accepted connection would.
  stream_channel(const endpoint_type& dial_to, std::uint64_t hello_key, deliver_handler deliver,
                 transport_settings settings = transport_settings::from_environment());
  ~stream_channel() override;  // close()

  endpoint_type local_endpoint() const override;
  asio::any_io_executor get_executor() override;
  admission submit(const endpoint_type& peer, frame f, outcome_handler on_outcome,
                   admitted_handler on_admitted) override;
  // Must not be called from a handler running on this channel's I/O thread. On
  // settings.io: only from its runner thread, which it runs until the channel's work is done.
  void close() override;
  bool io_runs_on_this_thread() const override;
  bool run_io_once() override;

  // Any thread: `peer` will never be reachable again (the caller knows, e.g. its process was
  // reported dead); every message to it whose outcome is not known gets no_such_target: at
  // once without a connection, else once the connection's remaining answers are read (ACKs
  // the peer wrote before it ended still count), at its end of stream.
  void peer_gone(const endpoint_type& peer, const std::string& reason);
  // Any thread: `peer` listens now (the caller was told): a dial waiting out its back-off
  // after a refusal tries again at once.
  void dial_now(const endpoint_type& peer);
  // Any thread, before sending to `peer`: it is never dialled; its messages wait for a connection
  // handed over by adopt() (or, after first_connect_grace / once it was lost with
  // peers_never_return, fail as an unreachable peer's do).
  void await_dial_from(const endpoint_type& peer);
  // Any thread: `fd` (a connected socket, now owned by the channel) is the connection to
  // `peer`, which dialled us. Replaces a previous connection to it (whose unacknowledged
  // messages fail, as on any loss).
  void adopt(const endpoint_type& peer, int fd);
  // Any thread: `fd`, a connection that `peer` dialled and opened with an origin frame, becomes
  // the duplex connection to `peer` (`rest`: bytes already read past that frame), unless the
  // channel has or is making a connection to `peer`. true: the channel owns `fd`; false:
  // the caller keeps it.
  bool adopt_duplex(const endpoint_type& peer, int fd, std::span<const char> rest);
  // Messages to `peer` whose outcome is not known yet (0 for an unknown peer). Any thread.
  std::size_t queue_depth(const endpoint_type& peer) const;
  std::size_t parked_senders(const endpoint_type& peer) const;
  // Messages to `peer` written and not acknowledged yet (at most settings.max_in_flight).
  std::size_t in_flight(const endpoint_type& peer) const;
  stream_channel_statistics statistics() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

using tcp_channel = stream_channel<asio::ip::tcp>;
using unix_channel = stream_channel<asio::local::stream_protocol>;

extern template class stream_channel<asio::ip::tcp>;
extern template class stream_channel<asio::local::stream_protocol>;

}  // namespace thespian::transport
